/**
 * `node dist/test/bench/nfs-bench.js [sizeMiB]`: sequential write and read of one large file
 * through the NFS server with libnfs `nfs-cp` (write time includes the COMMIT at close),
 * beside the client library's own objectPut/objectGet of the same file on the same node.
 * Prints a table; never a timed test.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { startNode } from '../helpers/grid';
import { tmpDir } from '../helpers/tmp';

const MiB = 1024 * 1024;

async function main(): Promise<void> {
  const sizeMiB = Number(process.argv[2] ?? 1024);
  const node = await startNode({ services: ['conscience', 'meta0', 'meta1', 'account', 'meta2', 'rawx', 'proxy', 'nfs'], config: { 'nfs.account': 'bench', 'ns.storage_policy': 'SINGLE', 'ns.score_expr': { '*': { put: '(stat.space >= 2) * 90', get: '90' } } } });
  try {
    const work = tmpDir('nfs-bench-');
    const src = path.join(work, 'src.bin');
    const fd = fs.openSync(src, 'w');
    const block = randomBytes(MiB);
    for (let i = 0; i < sizeMiB; i++) fs.writeSync(fd, block);
    fs.closeSync(fd);
    const client = node.client('bench');
    await client.containerCreate('bench');
    const url = (p: string) => `nfs://${node.ip}/bench/${p}?version=3&nfsport=2049&mountport=2049`;
    const time = async (f: () => unknown): Promise<number> => { const t0 = process.hrtime.bigint(); await f(); return Number(process.hrtime.bigint() - t0) / 1e9; };
    const rows: Array<[string, number]> = [];
    rows.push(['client library objectPut (file)', sizeMiB / await time(() => client.objectPut('bench', 'lib.bin', fs.createReadStream(src), { size: sizeMiB * MiB }))]);
    rows.push(['client library objectGet', sizeMiB / await time(async () => {
      const g = await client.objectGet('bench', 'lib.bin');
      await pipeline(g.stream, new Writable({ write(_c, _e, cb) { cb(); } }));
    })]);
    rows.push(['NFS nfs-cp write (ends with COMMIT)', sizeMiB / await time(() => execFileSync('nfs-cp', [src, url('nfs.bin')]))]);
    const back = path.join(work, 'back.bin');
    rows.push(['NFS nfs-cp read', sizeMiB / await time(() => execFileSync('nfs-cp', [url('nfs.bin'), back]))]);
    if (fs.statSync(back).size !== sizeMiB * MiB) throw new Error('read back size differs');
    console.log(`| ${sizeMiB} MiB sequential | MiB/s |\n|---|---|`);
    for (const [k, v] of rows) console.log(`| ${k} | ${v.toFixed(1)} |`);
  } finally {
    await node.stop();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
