/**
 * Bench of what feeding the rdir costs the rawx data path (writes a table, never a timed
 * test): small chunk PUTs (durable: fsync on) to one rawx without an rdir, with its rdir up,
 * and with its rdir down (rows pile up in the volume's queue), in rounds alternating the
 * variants; then how long the rdir takes to catch up with a queue left by an outage.
 * rawx and rdir run in this process (one event loop: the feed's sends compete with the PUTs).
 * Run: node dist/test/bench/rdir-feed-bench.js [COUNT] [CONCURRENCY] [ROUNDS]
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { rawxPut, rawxStat, RdirClient } from '../../appliance/client/remote';
import { cidOf, loadConfig, newChunkId, newContentId, rootLogger, setLogLevel } from '../../appliance/common';
import { RawxService } from '../../appliance/services/rawx';
import { RdirService } from '../../appliance/services/rdir';

const COUNT = Number(process.argv[2] ?? 1000);
const CONC = Number(process.argv[3] ?? 16);
const ROUNDS = Number(process.argv[4] ?? 3);
const SIZE = 4096;

async function putMany(addr: string, n: number): Promise<number> {
  const body = randomBytes(SIZE);
  const cid = cidOf('bench', 'rdir');
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CONC }, async () => {
    while (next < n) {
      next++;
      await rawxPut(`http://${addr}/${newChunkId()}`, body, {
        containerId: cid, contentPath: `o${next}`, contentVersion: 1, contentId: newContentId(), chunkPos: '0', contentPolicy: 'SINGLE', contentChunkMethod: 'plain/nb_copy=1',
      });
    }
  }));
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
  });
}

async function main(): Promise<void> {
  setLogLevel('warn');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rdir-bench-'));
  const config = loadConfig({ env: {}, overrides: { access_log: false } });
  const ctx = (sub: string) => {
    const dataDir = path.join(root, sub);
    fs.mkdirSync(dataDir, { recursive: true });
    return { config, log: rootLogger, signal: new AbortController().signal, dataDir, conscienceAddrs: [] };
  };
  const ip = '127.0.0.1';
  const plainVol = path.join(root, 'vol-plain');
  const fedVol = path.join(root, 'vol-fed');
  const rdir = new RdirService({ host: ip, port: await freePort(), volume: fedVol });
  await rdir.start(ctx('rdir'));
  const plain = new RawxService({ host: ip, port: 0, volume: plainVol });
  const fed = new RawxService({ host: ip, port: 0, volume: fedVol, rdir: rdir.addr });
  await plain.start(ctx('rawx-plain'));
  await fed.start(ctx('rawx-fed'));
  const rows: Record<string, number[]> = { 'no rdir': [], 'rdir up': [], 'rdir down (queued)': [] };
  for (let r = 0; r < ROUNDS; r++) {
    rows['no rdir']!.push(await putMany(plain.addr, COUNT));
    rows['rdir up']!.push(await putMany(fed.addr, COUNT));
    await rdir.stop();
    rows['rdir down (queued)']!.push(await putMany(fed.addr, COUNT));
    const t0 = Date.now();
    await rdir.start(ctx('rdir'));
    await fed.feed!.flush();
    const lag = Date.now() - t0;
    process.stdout.write(`round ${r + 1}: caught up ${COUNT} queued rows in ${lag} ms; pending ${(await rawxStat(fed.addr)).rdirPending}\n`);
  }
  const st = await new RdirClient(rdir.addr).rdirStatus();
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  process.stdout.write(`\n${COUNT} PUTs of ${SIZE} B per round, ${CONC} in flight, fsync on, ${ROUNDS} rounds (${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')})\n`);
  process.stdout.write('| variant | PUT/s per round | median |\n|---|---|---|\n');
  for (const [k, v] of Object.entries(rows)) process.stdout.write(`| ${k} | ${v.map((x) => x.toFixed(0)).join(', ')} | ${med(v).toFixed(0)} |\n`);
  process.stdout.write(`rdir lists ${st.chunks.total} chunks; the fed rawx stored ${2 * COUNT * ROUNDS}\n`);
  await fed.stop();
  await plain.stop();
  await rdir.stop();
  fs.rmSync(root, { recursive: true, force: true });
}

main().catch((e: unknown) => { process.stderr.write(`${(e as Error).stack ?? String(e)}\n`); process.exit(1); });
