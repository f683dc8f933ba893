/**
 * Bench: resident memory of the S3 gateway (in its own process, as on the appliance) while one
 * 5 GiB object is uploaded with a presigned PUT and read back with a presigned GET, both
 * streamed (the data is made on the fly, never held whole). Target (issue 4): the gateway
 * stays under about 150 MB resident whatever the object size. The MD5 of what was sent, the
 * ETag and the MD5 of what came back must agree. Writes test/bench/s3-memory-results.md.
 *   node dist/test/bench/s3-memory.js [GiB]
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startS3Node } from '../e2e/s3/s3-env';
import { presign } from '../e2e/s3/sigv4-client';

const MiB = 1024 * 1024;
const TARGET_MB = 150;

/** Resident memory in MB (10^6 bytes, as the target is written). */
function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? (Number(m[1]) * 1024) / 1e6 : 0;
}

/** Samples a process's resident memory every 50 ms until stopped; the peak in MB. */
function sampler(pid: number): { stop(): number } {
  let peak = rssMB(pid);
  const t = setInterval(() => { peak = Math.max(peak, rssMB(pid)); }, 50);
  return { stop: () => { clearInterval(t); return Math.max(peak, rssMB(pid)); } };
}

/** PUT of `size` bytes made block by block (each 1 MiB block differs); resolves with the MD5 sent and the ETag. */
function put(url: string, size: number): Promise<{ md5: string; etag: string }> {
  const block = randomBytes(MiB);
  const md5 = createHash('md5');
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'PUT', headers: { 'content-length': size } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => (res.statusCode === 200 ? resolve({ md5: md5.digest('hex'), etag: String(res.headers.etag).replace(/"/g, '') }) : reject(new Error(`PUT: HTTP ${res.statusCode} ${body}`))));
    });
    req.on('error', reject);
    let sent = 0;
    let n = 0;
    const pump = (): void => {
      while (sent < size) {
        const b = Buffer.from(block.subarray(0, Math.min(MiB, size - sent)));
        b.writeUInt32BE(n++, 0);
        md5.update(b);
        sent += b.length;
        if (!req.write(b)) { req.once('drain', pump); return; }
      }
      req.end();
    };
    pump();
  });
}

function get(url: string): Promise<{ md5: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      const md5 = createHash('md5');
      let bytes = 0;
      res.on('data', (c: Buffer) => { md5.update(c); bytes += c.length; });
      res.on('end', () => (res.statusCode === 200 ? resolve({ md5: md5.digest('hex'), bytes }) : reject(new Error(`GET: HTTP ${res.statusCode}`))));
    }).on('error', reject);
  });
}

async function main(): Promise<void> {
  const gib = Number(process.argv[2] ?? 5);
  const size = Math.round(gib * 1024 * MiB);
  const { node } = await startS3Node({ access_log: false, 'node.services': ['conscience', 'meta0', 'meta1', 'account', 'meta2', 'rawx', 'proxy'] });
  const gw = await node.runService('s3');
  const pid = gw.proc.pid!;
  const creds = { accessKey: 'demo', secretKey: 'demosecretkey123' };
  const host = `${node.ip}:6007`;
  try {
    await node.client('default').containerCreate('mem');
    const idle = rssMB(pid);
    let s = sampler(pid);
    let t0 = Date.now();
    const sent = await put(presign(creds, host, 'PUT', '/mem/big'), size);
    const putPeak = s.stop();
    const putSec = (Date.now() - t0) / 1000;
    if (sent.etag !== sent.md5) throw new Error(`ETag ${sent.etag} is not the MD5 of what was sent (${sent.md5})`);
    s = sampler(pid);
    t0 = Date.now();
    const back = await get(presign(creds, host, 'GET', '/mem/big'));
    const getPeak = s.stop();
    const getSec = (Date.now() - t0) / 1000;
    if (back.bytes !== size || back.md5 !== sent.md5) throw new Error(`read back ${back.bytes} bytes, MD5 ${back.md5}; sent ${size}, ${sent.md5}`);
    const ok = (mb: number) => (mb <= TARGET_MB ? 'yes' : 'NO');
    const rows = [
      `| gateway RSS idle (MB) | ${idle.toFixed(1)} | | |`,
      `| gateway RSS peak during the ${gib} GiB PUT (MB) | ${putPeak.toFixed(1)} | <= ${TARGET_MB} | ${ok(putPeak)} |`,
      `| gateway RSS peak during the ${gib} GiB GET (MB) | ${getPeak.toFixed(1)} | <= ${TARGET_MB} | ${ok(getPeak)} |`,
      `| PUT / GET throughput (MiB/s) | ${(size / MiB / putSec).toFixed(0)} / ${(size / MiB / getSec).toFixed(0)} | | |`,
    ];
    const load = os.loadavg().map((x) => x.toFixed(1)).join(' ');
    const text = `# S3 gateway memory\n\n${new Date().toISOString()} (load average ${load} on ${os.cpus().length} CPUs): one ${gib} GiB object, presigned PUT then GET, streamed; gateway in its own process (\`oio service run s3\`), one node (2 rawx, SINGLE). ETag = MD5 sent = MD5 read back.\n\n| measure | value | target | met |\n|---|---:|---|---|\n${rows.join('\n')}\n`;
    process.stdout.write(text);
    fs.writeFileSync(path.join(__dirname, '..', '..', '..', 'test', 'bench', 's3-memory-results.md'), text);
  } finally {
    await node.stop();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
