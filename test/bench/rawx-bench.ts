/**
 * Bench of the chunk data path (writes a table, never a timed test): a 64 MiB metachunk PUT
 * through writeReplicas to one rawx vs the volume's durable write rate (write + fsync of a
 * plain file), and a GET through readRange vs the loopback socket rate.
 * Run: node dist/test/bench/rawx-bench.js [volumeDir]
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { readRange, writeReplicas } from '../../appliance/client/data';
import { newChunkId, setLogLevel } from '../../appliance/common';
import { RawxService } from '../../appliance/services/rawx';

const SIZE = 64 * 1024 * 1024;
const BLOCK = 1024 * 1024;
const ROUNDS = Number(process.env.ROUNDS ?? 5);

function mbps(bytes: number, ns: bigint): number {
  return Math.round((bytes / (1024 * 1024)) / (Number(ns) / 1e9));
}

function blocks(data: Buffer): Readable {
  let off = 0;
  return new Readable({
    highWaterMark: BLOCK,
    read() {
      if (off >= data.length) { this.push(null); return; }
      this.push(data.subarray(off, off + BLOCK));
      off += BLOCK;
    },
  });
}

async function diskRate(dir: string, data: Buffer): Promise<number> {
  const p = path.join(dir, `disk-${Date.now()}`);
  const t0 = process.hrtime.bigint();
  const fh = await fsp.open(p, 'w');
  for (let off = 0; off < data.length; off += BLOCK) await fh.write(data, off, BLOCK, off);
  await fh.sync();
  await fh.close();
  const dt = process.hrtime.bigint() - t0;
  await fsp.unlink(p);
  return mbps(data.length, dt);
}

async function socketRate(data: Buffer): Promise<number> {
  const server = net.createServer((s) => { s.on('data', () => undefined); s.on('end', () => s.end()); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const t0 = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1', () => {
      let off = 0;
      const pump = (): void => {
        while (off < data.length) {
          const ok = c.write(data.subarray(off, off + BLOCK));
          off += BLOCK;
          if (!ok) { c.once('drain', pump); return; }
        }
        c.end();
      };
      pump();
    });
    c.on('close', () => resolve());
    c.on('error', reject);
    c.resume();
  });
  const dt = process.hrtime.bigint() - t0;
  server.close();
  return mbps(data.length, dt);
}

/** Child mode: one rawx in its own process (as in production), its addr sent over IPC. */
async function serve(vol: string): Promise<void> {
  setLogLevel('error');
  const rawx = new RawxService({ host: '127.0.0.1', port: 0, volume: vol, fsync: true });
  await rawx.start();
  process.send?.({ addr: rawx.addr });
  process.on('disconnect', () => { void rawx.stop().then(() => process.exit(0)); });
}

async function main(): Promise<void> {
  setLogLevel('error');
  if (process.argv[2] === '--serve') { await serve(process.argv[3]!); return; }
  const base = process.argv[2] ?? os.tmpdir();
  const vol = await fsp.mkdtemp(path.join(base, 'rawx-bench-'));
  const child = fork(__filename, ['--serve', vol], { stdio: 'inherit' });
  const addr = await new Promise<string>((resolve) => child.once('message', (m) => resolve((m as { addr: string }).addr)));
  const rawx = { addr, stop: async () => { child.disconnect(); await new Promise((r) => child.once('exit', r)); } };
  const data = randomBytes(SIZE);
  const rows: string[][] = [];
  try {
    for (let i = 0; i < ROUNDS; i++) {
      const disk = await diskRate(vol, data);
      const url = `http://${rawx.addr}/${newChunkId()}`;
      let t0 = process.hrtime.bigint();
      await writeReplicas([{ url }], blocks(data), { containerId: 'A'.repeat(64), contentPath: 'b', contentVersion: 1, contentId: 'C'.repeat(32), chunkPos: '0', contentPolicy: 'SINGLE', contentChunkMethod: 'plain/nb_copy=1' }, { quorum: 1, size: SIZE });
      const put = mbps(SIZE, process.hrtime.bigint() - t0);
      const sock = await socketRate(data);
      t0 = process.hrtime.bigint();
      const s = readRange([{ pos: 0, size: SIZE, replicas: [{ url }] }], 0, SIZE - 1);
      let n = 0;
      for await (const b of s) n += (b as Buffer).length;
      const get = mbps(n, process.hrtime.bigint() - t0);
      rows.push([String(i + 1), `${disk}`, `${put}`, `${Math.round((100 * put) / disk)}%`, `${sock}`, `${get}`, `${Math.round((100 * get) / sock)}%`]);
    }
  } finally {
    await rawx.stop();
    await fsp.rm(vol, { recursive: true, force: true });
  }
  console.log('| round | disk MiB/s (write+fsync) | PUT MiB/s | PUT/disk | loopback MiB/s | GET MiB/s | GET/loopback |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}

void main().catch((e) => { console.error(e); process.exit(1); });
