/**
 * @module test/e2e/s3/s3-env
 * Shared set-up of the S3 end-to-end tests: a real node (its S3 gateway on ip:6007 with the
 * default user of `oio node up`), the environment each external client needs, and the rule
 * for missing tools (skip with the tool's name locally, fail under CI=true).
 */
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync, SpawnSyncReturns } from 'node:child_process';
import type { Readable } from 'node:stream';
import { startNode, TestNode } from '../../helpers/grid';

export const ACCESS_KEY = 'demo';
export const SECRET_KEY = 'demosecretkey123';

export interface S3Node { node: TestNode; endpoint: string; host: string }

/**
 * Scores that do not follow the machine's load: these tests are about S3, and on a shared
 * 2-core machine idle CPU reaching 0 % drives every put score (the geometric mean) to 0,
 * which refuses writes (POLICY_NOT_SATISFIABLE). Free space still counts.
 */
const STEADY_SCORES = {
  rawx: { put: '(stat.space >= 2) * 50', get: '50' },
  meta2: { put: '(stat.space >= 2) * 50', get: '50' },
  '*': { put: '50', get: '50' },
};

/** Starts a node whose S3 gateway serves the default user. */
export async function startS3Node(config: Record<string, unknown> = {}): Promise<S3Node> {
  const node = await startNode({ config: { 'rawx.count': 2, 'ns.storage_policy': 'SINGLE', 'ns.score_expr': STEADY_SCORES, ...config } });
  return { node, endpoint: `http://${node.ip}:6007`, host: `${node.ip}:6007` };
}

/** Skips the suite (locally) or fails (CI=true) when `tool` is not installed. */
export function requireTool(ctx: Mocha.Context, tool: string): void {
  const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).status === 0;
  if (found) return;
  if (process.env.CI === 'true') throw new Error(`${tool} is not installed (test/setup/install-deps.sh installs it)`);
  // eslint-disable-next-line no-console
  console.warn(`      skipped: ${tool} is not installed`);
  ctx.skip();
}

/** Environment for awscli / rclone: credentials, no CA bundle override, no user config. */
export function clientEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET_KEY, AWS_DEFAULT_REGION: 'us-east-1', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', ...extra };
  delete env.AWS_CA_BUNDLE;
  delete env.AWS_PROFILE;
  return env;
}

/** Runs a command; resolves with its result (never throws on a non-zero status). */
export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = clientEnv(), input?: string): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { env, encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
}

/** Runs a command and returns stdout; throws with stderr on failure. */
export function runOk(cmd: string, args: string[], env: NodeJS.ProcessEnv = clientEnv()): string {
  try { return execFileSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] }); } catch (e) {
    const x = e as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${x.message}\n${x.stderr ?? ''}${x.stdout ?? ''}`);
  }
}

let seq = 0;
/** A bucket name unique in this run. */
export function bucketName(prefix: string): string {
  seq++;
  return `${prefix}-${process.pid}-${seq}`;
}

/**
 * Expects an SDK call to fail with S3 error `name` (undefined: any, as for a HEAD or a 304,
 * which have no body) and HTTP `status` (undefined: any).
 */
export async function rejects(p: Promise<unknown>, name: string | undefined, status?: number): Promise<void> {
  try { await p; } catch (e) {
    const err = e as { name: string; $metadata?: { httpStatusCode?: number } };
    if (name !== undefined) assert.equal(err.name, name);
    if (status !== undefined) assert.equal(err.$metadata?.httpStatusCode, status);
    return;
  }
  assert.fail(`expected ${name ?? `HTTP ${status}`}`);
}

/** The whole body of an SDK GetObject answer (or any stream in `Body`). */
export async function bodyOf(x: { Body?: unknown }): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of x.Body as Readable) parts.push(Buffer.from(c as Buffer));
  return Buffer.concat(parts);
}
