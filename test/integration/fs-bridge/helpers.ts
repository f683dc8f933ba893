/** Helpers shared by the bridge tests: tool checks (skip locally, fail under CI), trees, hashes. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Node config for bridge tests: rawx placement must not depend on CPU idleness, because the
 * bridge, the grid and the tools share 2 cores (the default score drops every rawx to 0 at
 * 100% CPU and puts fail with POLICY_NOT_SATISFIABLE).
 */
export const BRIDGE_NODE_CONFIG: Record<string, unknown> = {
  'rawx.count': 3,
  'ns.score_expr': { rawx: { put: '(stat.space >= 2) * 90', get: '90' }, '*': { put: '90', get: '90' } },
};

/** Whether a command exists; skips the test locally, throws under CI=true. */
export function hasTool(cmd: string, ctx: Mocha.Context): boolean {
  try {
    execFileSync('bash', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI === 'true') throw new Error(`${cmd} is required under CI (see test/setup/install-deps.sh)`);
    ctx.skip();
    return false;
  }
}

/** Writes `count` small files (varied sizes, nested folders, a few empty) under `root`. */
export function makeTree(root: string, count: number): void {
  let seed = 12345;
  const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
  for (let i = 0; i < count; i++) {
    const dir = path.join(root, `d${i % 20}`, i % 3 === 0 ? 'sub' : '', i % 7 === 0 ? 'deeper' : '');
    fs.mkdirSync(dir, { recursive: true });
    const size = i % 97 === 0 ? 0 : rnd() % 6000;
    const buf = Buffer.alloc(size);
    for (let j = 0; j < size; j++) buf[j] = rnd() & 0xff;
    fs.writeFileSync(path.join(dir, `f${i}.dat`), buf);
    if (i % 250 === 0) fs.chmodSync(path.join(dir, `f${i}.dat`), 0o600);
  }
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of fs.createReadStream(file, { highWaterMark: 4 * 1024 * 1024 })) h.update(c as Buffer);
  return h.digest('hex');
}
