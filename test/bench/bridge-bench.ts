/**
 * Bench of the file bridges (a table, never a timed test): sequential write (ending with
 * fsync / end of transfer) and read MiB/s of one large file, and the time to untar 2,000
 * small files, through FUSE, NFS (libnfs nfs-cp, nfs-cat) and FTP (lftp), beside the S3
 * gateway (presigned HTTP, no SDK), the client library (no bridge) and the local disk in the
 * same run, on one real node. Ratios are to the S3 gateway (the targets: 70%).
 * Every reader discards what it reads (S3 and library in this process, dd, nfs-cat and lftp
 * cat to /dev/null), and a read figure is the median of three reads: one read of this VM varies
 * by up to 2x from the next.
 * Run: node dist/test/bench/bridge-bench.js        (SIZE_MIB=1024 by default)
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { OIO_MAIN, startNode } from '../helpers/grid';
import { tmpDir } from '../helpers/tmp';
import { BRIDGE_NODE_CONFIG, makeTree } from '../integration/fs-bridge/helpers';
import { presign } from '../e2e/s3/sigv4-client';
import { median } from './median';
import { presignedRequest } from './presigned-http';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const SIZE_MIB = Number(process.env.SIZE_MIB ?? 1024);
const FILES = 2000;

interface Row { path: string; writeMiBs?: number; readMiBs?: number; untarS?: number }

const secs = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;
const rate = (t0: bigint) => Math.round((SIZE_MIB / secs(t0)) * 10) / 10;
const sh = (cmd: string, env?: NodeJS.ProcessEnv) => run('bash', ['-c', cmd], { env: env ?? process.env, maxBuffer: 64 * MiB });

/** One presigned S3 request as the default user; `file` is streamed as the body. */
const s3Http = (host: string, method: 'PUT' | 'GET', key: string, file?: string): Promise<void> =>
  presignedRequest(presign({ accessKey: 'demo', secretKey: 'demosecretkey123' }, host, method, key), method, file !== undefined ? { file } : undefined);

/** The median of read rates (each logged). */
function medianOfReads(rates: number[]): number {
  process.stderr.write(`  reads: ${rates.join(', ')} MiB/s\n`);
  return median(rates);
}

/** Median MiB/s of three reads of the big file. */
async function medianRate(fn: () => Promise<unknown>): Promise<number> {
  const rates: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    rates.push(rate(t0));
  }
  return medianOfReads(rates);
}

async function timed<T>(fn: () => Promise<T>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Math.round(secs(t0) * 100) / 100;
}

async function main(): Promise<void> {
  const work = tmpDir('bridge-bench-');
  const big = path.join(work, 'big.bin');
  const fd = fs.openSync(big, 'w');
  for (let i = 0; i < SIZE_MIB / 4; i++) fs.writeSync(fd, randomBytes(4 * MiB));
  fs.closeSync(fd);
  makeTree(path.join(work, 'tree'), FILES);
  await sh(`tar cf ${work}/tree.tar -C ${work}/tree .`);

  const node = await startNode({
    config: {
      ...BRIDGE_NODE_CONFIG,
      'node.services': ['conscience', 'meta0', 'meta1', 'account', 'meta2', 'rawx', 'proxy', 's3', 'nfs', 'ftp'], 'nfs.account': 'bench',
      'ftp.pasv_range': '30150-30190', 'ftp.users': { BENCH: { password: 'bench', account: 'bench' } },
    },
  });
  const rows: Row[] = [];
  try {
    const s = node.client('bench');
    await s.containerCreate('vol');

    // Local disk: write + fsync, read (page cache dropped by writing elsewhere is not possible
    // without root-wide effects: the read figure is a cached-read upper bound).
    const local: Row = { path: 'local disk' };
    let t0 = process.hrtime.bigint();
    await sh(`dd if=${big} of=${work}/copy.bin bs=1M conv=fsync status=none`);
    local.writeMiBs = rate(t0);
    t0 = process.hrtime.bigint();
    await sh(`dd if=${work}/copy.bin of=/dev/null bs=1M status=none`);
    local.readMiBs = rate(t0);
    fs.rmSync(`${work}/copy.bin`);
    fs.mkdirSync(`${work}/untar-local`);
    local.untarS = await timed(() => sh(`tar xf ${work}/tree.tar -C ${work}/untar-local && sync -f ${work}/untar-local`));
    rows.push(local);
    process.stderr.write(`${JSON.stringify(local)}\n`);

    // Client library, no bridge (what the S3 gateway stands on).
    const lib: Row = { path: 'client library (no bridge)' };
    t0 = process.hrtime.bigint();
    await s.objectPut('vol', 'lib-big.bin', big);
    lib.writeMiBs = rate(t0);
    lib.readMiBs = await medianRate(async () => {
      const got = await s.objectGet('vol', 'lib-big.bin');
      await pipeline(got.stream, new Writable({ write(_c, _e, cb) { cb(); } }));
    });
    const files: string[] = (await sh(`cd ${work}/tree && find . -type f`)).stdout.split('\n').filter(Boolean);
    lib.untarS = await timed(async () => { for (const f of files) await s.objectPut('vol', `lib-tree/${f.slice(2)}`, path.join(work, 'tree', f)); });
    rows.push(lib);
    process.stderr.write(`${JSON.stringify(lib)}\n`);

    // S3 gateway (presigned requests with a plain HTTP client: the gateway's cost, not an SDK's).
    const s3: Row = { path: 'S3 gateway (presigned HTTP)' };
    const host = `${node.ip}:6007`;
    await s3Http(host, 'PUT', '/benchs3');
    t0 = process.hrtime.bigint();
    await s3Http(host, 'PUT', '/benchs3/big.bin', big);
    s3.writeMiBs = rate(t0);
    s3.readMiBs = await medianRate(() => s3Http(host, 'GET', '/benchs3/big.bin'));
    s3.untarS = await timed(async () => { for (const f of files) await s3Http(host, 'PUT', `/benchs3/tree/${f.slice(2)}`, path.join(work, 'tree', f)); });
    rows.push(s3);
    process.stderr.write(`${JSON.stringify(s3)}\n`);

    // NFS (libnfs nfs-cp, one READ/WRITE in flight at a time; no kernel client here, so no untar).
    const nfs: Row = { path: 'NFS (nfs-cp, nfs-cat)' };
    const nfsUrl = (p: string) => `nfs://${node.ip}/vol/${p}?version=3&nfsport=2049&mountport=2049`;
    t0 = process.hrtime.bigint();
    await run('nfs-cp', [big, nfsUrl('nfs-big.bin')]);
    nfs.writeMiBs = rate(t0);
    nfs.readMiBs = await medianRate(() => sh(`nfs-cat '${nfsUrl('nfs-big.bin')}' > /dev/null`));
    rows.push(nfs);
    process.stderr.write(`${JSON.stringify(nfs)}\n`);

    // FUSE, mounted as on the image: with the node's configuration, so it reads the node's own
    // chunks from the rawx files as the gateway does.
    const env = { ...process.env, OIO_PROXY: node.proxy, OIO_ACCOUNT: 'bench' };
    const mnt = tmpDir('bench-mnt-');
    const mount = () => run(process.execPath, [OIO_MAIN, 'mount', 'vol', mnt, '--state-dir', `${work}/fuse-state`, '--log', `${work}/mount.log`, '--config', node.configFile], { env });
    const umount = () => run(process.execPath, [OIO_MAIN, 'umount', mnt], { env });
    await mount();
    const fuse: Row = { path: 'FUSE (oio mount)' };
    t0 = process.hrtime.bigint();
    await sh(`dd if=${big} of=${mnt}/fuse-big.bin bs=1M conv=fsync status=none`);
    fuse.writeMiBs = rate(t0);
    await umount();
    // Mounted again before each read: the kernel keeps a file's pages while it is unchanged.
    const reads: number[] = [];
    for (let i = 0; i < 3; i++) {
      await mount();
      t0 = process.hrtime.bigint();
      await sh(`dd if=${mnt}/fuse-big.bin of=/dev/null bs=1M status=none`);
      reads.push(rate(t0));
      await umount();
    }
    fuse.readMiBs = medianOfReads(reads);
    await mount();
    fs.mkdirSync(`${mnt}/untar`);
    // Until every file is committed: tar, then the unmount (which waits for pending commits).
    const tTar = process.hrtime.bigint();
    await sh(`tar xf ${work}/tree.tar -C ${mnt}/untar`);
    const tarOnly = secs(tTar);
    await umount();
    fuse.untarS = Math.round(secs(tTar) * 100) / 100;
    rows.push(fuse);
    process.stderr.write(`${JSON.stringify(fuse)}\n`);
    process.stderr.write(`FUSE untar: tar itself returned after ${tarOnly.toFixed(2)} s\n`);

    // FTP (lftp put/get; the tree with mirror -R, 4 transfers in parallel as lftp does by default with --parallel).
    const ftp: Row = { path: 'FTP (lftp put, cat)' };
    const lftp = (script: string) => run('lftp', ['-u', 'BENCH,bench', '-e', `set ftp:ssl-allow no; ${script}; quit`, `ftp://${node.ip}:2121`], { cwd: work, maxBuffer: 64 * MiB });
    t0 = process.hrtime.bigint();
    await lftp('put big.bin -o /vol/ftp-big.bin');
    ftp.writeMiBs = rate(t0);
    ftp.readMiBs = await medianRate(() => sh(`lftp -u BENCH,bench -e 'set ftp:ssl-allow no; cat /vol/ftp-big.bin; quit' ftp://${node.ip}:2121 > /dev/null`));
    ftp.untarS = await timed(() => lftp('mirror -R tree /vol/ftp-tree'));
    rows.push(ftp);
  } finally {
    await node.stop();
  }
  const ref = rows.find((r) => r.path.startsWith('S3'))!;
  const pct = (a?: number, b?: number) => (a && b ? `${Math.round((a / b) * 100)}%` : '');
  const lines = [
    `Bridge bench, ${SIZE_MIB} MiB file, ${FILES} small files, one node (3 rawx), ${new Date().toISOString()}`,
    '',
    '| path | write MiB/s | vs S3 | read MiB/s | vs S3 | untar 2,000 files (s; S3 and library: one PUT after another) |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.path} | ${r.writeMiBs ?? ''} | ${pct(r.writeMiBs, ref.writeMiBs)} | ${r.readMiBs ?? ''} | ${pct(r.readMiBs, ref.readMiBs)} | ${r.untarS ?? ''} |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((e: unknown) => { process.stderr.write(`${(e as Error).stack ?? String(e)}\n`); process.exitCode = 1; });
