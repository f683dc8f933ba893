/**
 * S3 gateway benchmark: PUT/GET MiB/s of 1 MiB and 64 MiB objects and ops/s of 4 KiB
 * objects (PUT, GET, HEAD, LIST) through the gateway with @aws-sdk/client-s3 (large PUTs with a
 * Buffer body and with a file stream) and with presigned requests from Node's plain HTTP client,
 * beside the client library alone on the same node in the same run. Target: large-object throughput
 * through the gateway at least 85% of the client library's. The gateway reads the node's chunks
 * from the rawx files (node.local_reads); the library, as a client elsewhere would, over HTTP:
 * large GETs are also measured with the library given the same local reads, and reported beside. Writes a table to stdout and
 * test/bench/s3-results.md. Run: `npm run build && node dist/test/bench/s3-bench.js`.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ObjectStorage } from '../../appliance/client/object-storage';
import { loadConfig, localVolumes } from '../../appliance/common';
import { startS3Node } from '../e2e/s3/s3-env';
import { presign } from '../e2e/s3/sigv4-client';
import { median } from './median';
import { presignedRequest } from './presigned-http';

const MiB = 1024 * 1024;
const sink = () => new Writable({ write(_c, _e, cb) { cb(); } });

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const ROUNDS = 3;

/** A table row: the library's figure, then each gateway figure with its ratio to it. */
function row(label: string, lib: number, gateway: Array<number | undefined>): string[] {
  return [label, lib.toFixed(0), ...gateway.map((g) => (g === undefined ? '-' : `${g.toFixed(0)} (${Math.round((g / lib) * 100)}%)`))];
}

async function pool(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => { while (next < n) await fn(next++); }));
}

async function main(): Promise<void> {
  // Steady scores (see s3-env): on the shared VM, load alone can drive every put score to 0.
  // The gateway in its own process (as systemd runs it on the image): in `oio node up` it
  // shares one event loop with the rawx services it writes to.
  const separate = process.argv.includes('--separate');
  const { node } = await startS3Node(separate
    ? { access_log: false, 'node.services': ['conscience', 'meta0', 'meta1', 'account', 'meta2', 'rawx', 'proxy'] }
    : { access_log: false });
  if (separate) await node.runService('s3');
  const lib = node.client('default');
  // The library as the node's own front ends use it: the rawx files of this node read directly,
  // mapped from the node's configuration as the node maps them.
  const libLocal = new ObjectStorage({ proxy: node.proxy, account: 'default', localVolumes: localVolumes(loadConfig({ file: node.configFile, env: {} })) });
  const s3 = new S3Client({ endpoint: `http://${node.ip}:6007`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'demo', secretAccessKey: 'demosecretkey123' } });
  const rows: string[][] = [];
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 's3-bench-'));
  const creds = { accessKey: 'demo', secretKey: 'demosecretkey123' };
  const host = `${node.ip}:6007`;
  try {
    await lib.containerCreate('benchlib');
    await s3.send(new CreateBucketCommand({ Bucket: 'benchs3' }));
    // Large objects: ROUNDS rounds, each timing the library, the SDK and presigned requests one
    // after the other; each figure is the median of its rounds (one transfer on this VM can
    // take twice as long as the next).
    for (const [label, size, count] of [['1 MiB', MiB, 64], ['64 MiB', 64 * MiB, 6]] as const) {
      const data = randomBytes(size);
      // The SDK with a file streamed from disk, as tools upload files: aws-chunked with an
      // unsigned payload and a CRC32 trailer, where a Buffer body is hashed (SHA-256) whole
      // before it is sent.
      const file = path.join(work, `${label.replace(' ', '')}.bin`);
      fs.writeFileSync(file, data);
      const t: Record<'libPut' | 's3Put' | 's3FilePut' | 'rawPut' | 'libGet' | 'libLocalGet' | 's3Get' | 'rawGet', number[]> = { libPut: [], s3Put: [], s3FilePut: [], rawPut: [], libGet: [], libLocalGet: [], s3Get: [], rawGet: [] };
      for (let round = 0; round < ROUNDS; round++) {
        const k = (i: number) => `${label === '1 MiB' ? 'm' : 'g'}${round}-${i}`;
        t.libPut.push(await timed(() => pool(count, 4, async (i) => { await lib.objectPut('benchlib', k(i), data); })));
        t.s3Put.push(await timed(() => pool(count, 4, async (i) => { await s3.send(new PutObjectCommand({ Bucket: 'benchs3', Key: k(i), Body: data })); })));
        t.s3FilePut.push(await timed(() => pool(count, 4, async (i) => {
          await s3.send(new PutObjectCommand({ Bucket: 'benchs3', Key: `f${k(i)}`, Body: fs.createReadStream(file, { highWaterMark: MiB }), ContentLength: size }));
        })));
        t.rawPut.push(await timed(() => pool(count, 4, (i) => presignedRequest(presign(creds, host, 'PUT', `/benchs3/r${k(i)}`), 'PUT', data))));
        t.libGet.push(await timed(() => pool(count, 4, async (i) => { const g = await lib.objectGet('benchlib', k(i)); await pipeline(g.stream, sink()); })));
        t.libLocalGet.push(await timed(() => pool(count, 4, async (i) => { const g = await libLocal.objectGet('benchlib', k(i)); await pipeline(g.stream, sink()); })));
        t.s3Get.push(await timed(() => pool(count, 4, async (i) => { const g = await s3.send(new GetObjectCommand({ Bucket: 'benchs3', Key: k(i) })); await pipeline(g.Body as Readable, sink()); })));
        t.rawGet.push(await timed(() => pool(count, 4, (i) => presignedRequest(presign(creds, host, 'GET', `/benchs3/r${k(i)}`), 'GET'))));
      }
      const mb = (count * size) / MiB;
      const m = (xs: number[]) => median(xs);
      rows.push(row(`${label} PUT MiB/s`, mb / m(t.libPut), [mb / m(t.s3Put), mb / m(t.s3FilePut), mb / m(t.rawPut)]));
      rows.push(row(`${label} GET MiB/s`, mb / m(t.libGet), [mb / m(t.s3Get), undefined, mb / m(t.rawGet)]));
      rows.push(row(`${label} GET MiB/s, library with local reads too`, mb / m(t.libLocalGet), [mb / m(t.s3Get), undefined, mb / m(t.rawGet)]));
      const spread = (xs: number[]) => xs.map((x) => (mb / x).toFixed(0)).join(' ');
      process.stderr.write(`${label} MiB/s by round: PUT lib ${spread(t.libPut)}, SDK ${spread(t.s3Put)}, SDK file ${spread(t.s3FilePut)}, presigned ${spread(t.rawPut)}; GET lib ${spread(t.libGet)}, lib local ${spread(t.libLocalGet)}, SDK ${spread(t.s3Get)}, presigned ${spread(t.rawGet)}\n`);
    }
    const small = randomBytes(4096);
    const n = 500;
    const c = 32;
    // Small objects: the SDK's own signing and middleware cost CPU on the same 2 cores, so the
    // gateway is also measured with presigned requests from Node's plain HTTP client. Each
    // measure first runs 100 untimed operations of each kind: a cold gateway answered HEADs at
    // about half its warm rate (its JIT), and the library's first calls were as slow.
    const ops = async (label: string, libFn: (i: number) => Promise<void>, s3Fn: (i: number) => Promise<void>, rawFn?: (i: number) => Promise<void>) => {
      for (const fn of [libFn, s3Fn, rawFn]) if (fn) await pool(100, c, (i) => fn(n + i));
      const a = await timed(() => pool(n, c, libFn));
      const b = await timed(() => pool(n, c, s3Fn));
      const r = rawFn ? await timed(() => pool(n, c, rawFn)) : undefined;
      rows.push(row(`4 KiB ${label} ops/s`, n / a, [n / b, undefined, r === undefined ? undefined : n / r]));
    };
    await ops('PUT', async (i) => { await lib.objectPut('benchlib', `s${i}`, small); }, async (i) => { await s3.send(new PutObjectCommand({ Bucket: 'benchs3', Key: `s${i}`, Body: small })); },
      (i) => presignedRequest(presign(creds, host, 'PUT', `/benchs3/q${i}`), 'PUT', small));
    await ops('GET', async (i) => { const g = await lib.objectGet('benchlib', `s${i}`); await pipeline(g.stream, sink()); },
      async (i) => { const g = await s3.send(new GetObjectCommand({ Bucket: 'benchs3', Key: `s${i}` })); await pipeline(g.Body as Readable, sink()); },
      (i) => presignedRequest(presign(creds, host, 'GET', `/benchs3/s${i}`), 'GET'));
    await ops('HEAD', async (i) => { await lib.objectHead('benchlib', `s${i}`); }, async (i) => { await s3.send(new HeadObjectCommand({ Bucket: 'benchs3', Key: `s${i}` })); },
      (i) => presignedRequest(presign(creds, host, 'HEAD', `/benchs3/s${i}`), 'HEAD'));
    await ops('LIST (100 keys)', async (i) => { await lib.objectList('benchlib', { prefix: 's', marker: `s${i}`, limit: 100 }); },
      async (i) => { await s3.send(new ListObjectsV2Command({ Bucket: 'benchs3', Prefix: 's', StartAfter: `s${i}`, MaxKeys: 100 })); },
      (i) => presignedRequest(presign(creds, host, 'GET', '/benchs3', 300, Date.now(), { 'list-type': '2', prefix: 's', 'start-after': `s${i}`, 'max-keys': '100' }), 'GET'));
  } finally {
    s3.destroy();
    await node.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
  const table = [
    '| measure | client library | gateway, SDK (Buffer body) | gateway, SDK (file stream) | gateway, presigned HTTP |',
    '|---|---|---|---|---|', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
  const load = os.loadavg().map((x) => x.toFixed(1)).join(' ');
  const text = `# S3 gateway benchmark\n\n${new Date().toISOString()} (load average ${load} on ${os.cpus().length} CPUs), one node (2 rawx, SINGLE), gateway ${separate ? 'in its own process' : 'inside `oio node up`'}, 4 in flight for large objects (median of ${ROUNDS} rounds), 32 for 4 KiB.\n\n${table}\n`;
  process.stdout.write(`${text}\n`);
  fs.writeFileSync(path.resolve(__dirname, '../../../test/bench/s3-results.md'), text);
}

main().catch((e: unknown) => { process.stderr.write(`${(e as Error).stack ?? String(e)}\n`); process.exit(1); });
