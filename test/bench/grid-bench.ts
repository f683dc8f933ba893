/**
 * Benchmark of the replicated directory (issue 3): container creates/s and 0-byte object
 * puts/s with 1 directory replica (one node) and 3 (a 3-node grid on loopback), and the time
 * from kill -9 of a container's master to the first write its successor acknowledges.
 * Writes a table to stdout and test/bench/grid-results.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Etcd3 } from 'etcd3';
import { cidOf } from '../../appliance/common';
import { ObjectStorage } from '../../appliance/client/object-storage';
import { startGrid, startNode, TestNode } from '../helpers/grid';

interface Row { what: string; value: number; unit: string }
const rows: Row[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function pool(n: number, inFlight: number, fn: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: inFlight }, async () => { while (next < n) { const i = next++; await fn(i); } }));
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

async function directoryRates(label: string, oio: ObjectStorage): Promise<void> {
  const creates = await pool(200, 16, async (i) => { await oio.containerCreate(`bench-${i}`, { policy: 'SINGLE' }); });
  rows.push({ what: `container creates (${label}, 200, 16 in flight)`, value: creates, unit: 'containers/s' });
  await oio.containerCreate('zero', { policy: 'SINGLE' });
  const puts = await pool(1000, 32, async (i) => { await oio.objectPut('zero', `z${i}`, Buffer.alloc(0)); });
  rows.push({ what: `0-byte object puts (${label}, 1000, 32 in flight)`, value: puts, unit: 'objects/s' });
}

async function main(): Promise<void> {
  const single: TestNode = await startNode({ config: { access_log: false } });
  try { await directoryRates('1 replica', single.client('bench')); } finally { await single.stop(); }

  const grid = await startGrid({ nodes: 3, config: { access_log: false } });
  const etcd = new Etcd3({ hosts: grid.etcd.map((e) => `http://${e}`) });
  try {
    await directoryRates('3 replicas', grid.nodes[0]!.client('bench'));
    // Failover: kill -9 the node mastering a container, time the first acknowledged write.
    const oio = grid.nodes[0]!.client('bench');
    await oio.containerCreate('failover', { policy: 'SINGLE' });
    await oio.objectPut('failover', 'first', Buffer.from('x'));
    const master = (await etcd.get(`/oio/OPENIO/election/meta2/${cidOf('bench', 'failover')}`).string())!;
    const victim = grid.nodes.find((n) => master.startsWith(`${n.ip}:`))!;
    const via = grid.nodes.find((n) => n !== victim)!.client('bench');
    const killed = Date.now();
    await victim.kill('SIGKILL');
    let ms = NaN;
    for (let i = 0; Date.now() - killed < 60_000; i++) {
      try { await via.objectPut('failover', `after${i}`, Buffer.from('y')); ms = Date.now() - killed; break; } catch { await sleep(50); }
    }
    rows.push({ what: 'kill -9 of a meta2 master to the first write acknowledged by its successor (etcd lease 3 s)', value: ms, unit: 'ms' });
  } finally {
    etcd.close();
    await grid.stop();
  }
  const text = [
    `# Grid benchmark (${new Date().toISOString()}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, node ${process.version})`, '',
    '| measure | value | unit |', '|---|---:|---|',
    ...rows.map((r) => `| ${r.what} | ${r.value.toFixed(0)} | ${r.unit} |`), '',
    'All nodes of the grid run on this one machine (2 cores), each with three rawx volumes.', '',
  ].join('\n');
  process.stdout.write(text);
  fs.writeFileSync(path.resolve(__dirname, '../../../test/bench/grid-results.md'), text);
}

main().catch((e: unknown) => { process.stderr.write(`grid bench failed: ${(e as Error).stack ?? String(e)}\n`); process.exitCode = 1; });
