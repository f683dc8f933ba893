/**
 * `node dist/test/bench/ec-bench.js`: erasure coding benchmark. (1) Reed-Solomon 6+3 encode
 * and decode MB/s on one core for 1 MiB and 8 MiB metachunks, native codec and portable
 * codec, beside ISA-L (`isa_l_rs_vand` through Debian's python3-pyeclib, when installed) on
 * the same machine; (2) end-to-end PUT/GET MB/s of EC63 beside THREECOPIES on a real node
 * with 9 rawx volumes, with the bytes each stored on disk. Writes test/bench/ec-results.md.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { codecFor, gfEncode, gfReconstruct, nativeCodecError } from '../../appliance/client/ec';
import { startNode } from '../helpers/grid';

const MiB = 1024 * 1024;
const lines: string[] = [];
const out = (s: string): void => { lines.push(s); process.stdout.write(s + '\n'); };
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
const secs = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;

/** MB/s (10^6 bytes) of `fn` run `reps` times on `bytes` of data: best of 3 rounds. */
async function rate(bytes: number, reps: number, fn: () => Promise<void> | void): Promise<number> {
  await fn();
  const rounds: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) await fn();
    rounds.push((bytes * reps) / secs(t0) / 1e6);
  }
  return Math.max(...rounds);
}

async function codecRates(): Promise<void> {
  const k = 6;
  const m = 3;
  out('## Reed-Solomon 6+3, one core (MB/s of data, 10^6 bytes)\n');
  out('| codec | metachunk | encode | decode (3 data fragments lost) |');
  out('|---|---|---|---|');
  const lost = [0, 1, 2];
  const present = [3, 4, 5, 6, 7, 8];
  for (const size of [1 * MiB, 8 * MiB]) {
    const cell = Math.ceil(size / k / 8) * 8;
    const data = randomBytes(k * cell);
    const parity = Buffer.alloc(m * cell);
    const reps = Math.max(4, Math.round(256 * MiB / size));
    if (!nativeCodecError()) {
      const c = codecFor('ronomon_cauchy', k, m);
      await c.encode(k, m, cell, data, parity);
      const enc = await rate(size, reps, () => c.encode(k, m, cell, data, parity));
      const dec = await rate(size, reps, () => c.reconstruct(k, m, cell, data, parity, present, lost));
      out(`| native ronomon_cauchy (libuv pool, one job at a time) | ${size / MiB} MiB | ${enc.toFixed(0)} | ${dec.toFixed(0)} |`);
      // As pyeclib does: data copied into fresh buffers, fresh parity buffers, every call.
      const fresh = async (rebuild: boolean): Promise<void> => {
        const d = Buffer.allocUnsafeSlow(k * cell);
        data.copy(d);
        const p = Buffer.allocUnsafeSlow(m * cell);
        if (rebuild) { parity.copy(p); await c.reconstruct(k, m, cell, d, p, present, lost); } else await c.encode(k, m, cell, d, p);
      };
      const encF = await rate(size, reps, () => fresh(false));
      const decF = await rate(size, reps, () => fresh(true));
      out(`| native ronomon_cauchy, fresh buffers per call (like pyeclib) | ${size / MiB} MiB | ${encF.toFixed(0)} | ${decF.toFixed(0)} |`);
    } else out(`| native | ${size / MiB} MiB | unavailable: ${nativeCodecError()} | |`);
    const views = [...Array.from({ length: k }, (_, i) => data.subarray(i * cell, (i + 1) * cell)), ...Array.from({ length: m }, (_, i) => parity.subarray(i * cell, (i + 1) * cell))];
    const preps = Math.max(2, Math.round(32 * MiB / size));
    const enc = await rate(size, preps, () => gfEncode(k, m, cell, views));
    const dec = await rate(size, preps, () => gfReconstruct(k, m, cell, views, present, lost));
    out(`| portable js_rs_vand (inline, as in one worker) | ${size / MiB} MiB | ${enc.toFixed(0)} | ${dec.toFixed(0)} |`);
    const isal = isalRate(size);
    out(`| ISA-L isa_l_rs_vand (python3-pyeclib) | ${size / MiB} MiB | ${isal.enc} | ${isal.dec} |`);
  }
  out('');
}

/** ISA-L's rate through pyeclib (the baseline); 'n/a (reason)' when not installed. */
function isalRate(size: number): { enc: string; dec: string } {
  const py = `
import time, os
from pyeclib.ec_iface import ECDriver
d = ECDriver(k=6, m=3, ec_type='isa_l_rs_vand')
data = os.urandom(${size})
frags = d.encode(data)
def best(fn, reps):
    r = []
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(reps): fn()
        r.append(${size} * reps / (time.perf_counter() - t) / 1e6)
    return max(r)
reps = max(4, ${Math.round(256 * MiB / size)})
enc = best(lambda: d.encode(data), reps)
dec = best(lambda: d.decode(frags[3:9]), reps)
print("%.0f %.0f" % (enc, dec))
`;
  try {
    const [enc, dec] = execFileSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split(/\s+/);
    return { enc: enc!, dec: dec! };
  } catch (e) {
    const msg = String((e as { stderr?: string }).stderr ?? (e as Error).message).trim().split('\n').pop() ?? '';
    return { enc: `n/a (${msg.slice(0, 80)})`, dec: 'n/a' };
  }
}

function duBytes(dir: string): number {
  let n = 0;
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p); else if (e.isFile()) n += fs.statSync(p).size;
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return n;
}

async function endToEnd(): Promise<void> {
  const size = 64 * MiB;
  const node = await startNode({ config: { 'rawx.count': 9 } });
  try {
    const oio = node.client('bench');
    for (const x of await waitServices(oio)) await oio.clusterLock(x.type, x.id, 100);
    const data = randomBytes(size);
    out(`## End to end, ${size / MiB} MiB objects, one node with 9 rawx volumes (median of 3; MiB/s)\n`);
    out('| policy | PUT MiB/s | GET MiB/s | bytes on disk per object | ratio to data |');
    out('|---|---|---|---|---|');
    for (const policy of ['EC63', 'THREECOPIES']) {
      await oio.containerCreate(policy, { policy });
      const puts: number[] = [];
      const gets: number[] = [];
      const volumes = path.join(node.dataDir, 'volumes');
      let stored = 0;
      for (let i = 0; i < 3; i++) {
        const before = duBytes(volumes);
        let t0 = process.hrtime.bigint();
        await oio.objectPut(policy, `o${i}`, Readable.from([data.subarray(0, size / 2), data.subarray(size / 2)]), { size });
        puts.push(size / MiB / secs(t0));
        stored = duBytes(volumes) - before;
        t0 = process.hrtime.bigint();
        const r = await oio.objectGet(policy, `o${i}`);
        await pipeline(r.stream, new Writable({ write(_c, _e, cb) { cb(); } }));
        gets.push(size / MiB / secs(t0));
      }
      out(`| ${policy} | ${median(puts).toFixed(0)} | ${median(gets).toFixed(0)} | ${stored.toLocaleString('en')} | ${(stored / size).toFixed(3)} |`);
    }
    out('');
  } finally {
    await node.stop();
  }
}

async function waitServices(oio: ReturnType<Awaited<ReturnType<typeof startNode>>['client']>): Promise<Array<{ type: string; id: string }>> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const all = await oio.clusterList();
    if (all.filter((s) => s.type === 'rawx').length >= 9 && all.some((s) => s.type === 'meta2')) return all;
    if (Date.now() > deadline) throw new Error('services not registered');
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main(): Promise<void> {
  out(`# EC benchmark (${new Date().toISOString().slice(0, 10)}, ${(await import('node:os')).cpus()[0]?.model ?? ''})\n`);
  await codecRates();
  if (!process.argv.includes('--codec-only')) await endToEnd();
  fs.writeFileSync(path.join(__dirname, '../../../test/bench/ec-results.md'), lines.join('\n') + '\n');
}

main().catch((e: unknown) => { process.stderr.write(`${(e as Error).stack}\n`); process.exit(1); });
