/**
 * @module cli/cluster
 * `oio cluster show|list|lock|unlock` and `oio policy list`: the namespace as the conscience
 * sees it (like `openio cluster show`).
 */
import type { Command } from './context';
import { need } from './context';
import { flagInt } from './args';
import { showList, showRecord } from './output';
import { Meta0Client } from '../client/remote/meta0';
import { InvalidArgumentError, sleep } from '../common';
import type { ServiceInfo } from '../common/model';

const LIST_COLUMNS = ['Type', 'Id', 'Addr', 'Volume', 'Location', 'Slots', 'Up', 'Score', 'Get score', 'Locked', 'CPU', 'IO', 'Space'];

function listRows(all: ServiceInfo[], types: string[]): Array<Record<string, unknown>> {
  return all.filter((s) => !types.length || types.includes(s.type))
    .sort((a, b) => (a.type + a.id < b.type + b.id ? -1 : 1))
    .map((s) => ({
      Type: s.type, Id: s.id, Addr: s.addr, Volume: s.tags['tag.vol'] ?? '', Location: s.loc, Slots: s.slots.join(','),
      Up: s.tags['tag.up'] !== false, Score: s.score, 'Get score': s.scoreGet, Locked: s.locked,
      CPU: s.tags['stat.cpu'], IO: s.tags['stat.io'], Space: s.tags['stat.space'],
    }));
}

export const clusterCommands: Command[] = [
  {
    name: 'cluster show', usage: 'cluster show', summary: 'namespace settings: chunk size, policies, data security',
    async run(ctx) {
      const ns = await ctx.storage.clusterInfo();
      const rec: Record<string, unknown> = { namespace: ns.ns, chunksize: ns.chunkSize, storage_policy: ns.storagePolicy, score_timeout: ns.scoreTimeoutMs, score_variation_bound: ns.scoreVariationBound, max_versions: ns.maxVersions };
      for (const [k, v] of Object.entries(ns.storagePolicies)) rec[`storage_policy.${k}`] = v;
      for (const [k, v] of Object.entries(ns.dataSecurity)) rec[`data_security.${k}`] = v;
      for (const [k, v] of Object.entries(ns.pools)) rec[`pool.${k}`] = v;
      rec.auto_storage_policies = ns.autoStoragePolicies ?? '';
      rec.ec_quorum_extra = ns.ecQuorumExtra ?? 1;
      if (ctx.format === 'json') { ctx.io.out(JSON.stringify(ns, null, 2) + '\n'); return; }
      showRecord(ctx.io, ctx.format, rec);
    },
  },
  {
    name: 'cluster list', usage: 'cluster list [TYPE...]', summary: 'services with their scores, location, volume and stats',
    async run(ctx) {
      showList(ctx.io, ctx.format, LIST_COLUMNS, listRows(await ctx.storage.clusterList(), ctx.args.positionals));
    },
  },
  {
    name: 'cluster watch', usage: 'cluster watch [TYPE...] [--interval MS] [--count N]',
    summary: 'the cluster list refreshed every interval (default 2000 ms) until Ctrl-C (or N refreshes)',
    async run(ctx) {
      const intervalMs = flagInt(ctx.args, 'interval') ?? 2000;
      const count = flagInt(ctx.args, 'count');
      if (intervalMs < 100) throw new InvalidArgumentError('BAD_REQUEST', '--interval must be at least 100 ms');
      for (let i = 0; count === undefined || i < count; i++) {
        if (ctx.signal?.aborted) break;
        if (i > 0) await sleep(intervalMs, ctx.signal);
        if (ctx.signal?.aborted) break;
        const all = await ctx.storage.clusterList();
        // On a terminal: redraw in place (cursor home, clear screen); otherwise one table per refresh.
        if (ctx.io.isTTY && ctx.format === 'table') ctx.io.out('\x1b[H\x1b[2J');
        if (ctx.format === 'table') ctx.io.out(`${new Date().toISOString()}  refresh every ${intervalMs} ms, Ctrl-C stops\n`);
        showList(ctx.io, ctx.format, LIST_COLUMNS, listRows(all, ctx.args.positionals));
      }
    },
  },
  {
    name: 'cluster lock', usage: 'cluster lock TYPE ID [--score N]', summary: 'freeze a service score (to N, or its current score)',
    async run(ctx) {
      const [type, id] = need(ctx, 2, this.usage);
      await ctx.storage.clusterLock(type!, id!, flagInt(ctx.args, 'score'));
    },
  },
  {
    name: 'cluster unlock', usage: 'cluster unlock TYPE ID', summary: 'let a locked score follow its stats again',
    async run(ctx) {
      const [type, id] = need(ctx, 2, this.usage);
      await ctx.storage.clusterUnlock(type!, id!);
    },
  },
  {
    name: 'cluster bootstrap', usage: 'cluster bootstrap [--replicas N]',
    summary: 'map the 65,536 prefixes onto the meta1 services of a new grid (once its first nodes are up)',
    async run(ctx) {
      const list = await ctx.storage.clusterList();
      const up = (t: string) => list.filter((s) => s.type === t && s.tags['tag.up'] !== false).map((s) => s.addr).sort();
      const meta1 = up('meta1');
      const meta0 = up('meta0');
      if (!meta1.length || !meta0.length) throw new Error(`bootstrap needs meta0 and meta1 services up (found ${meta0.length} meta0, ${meta1.length} meta1)`);
      const replicas = flagInt(ctx.args, 'replicas') ?? Math.min(3, meta1.length);
      // Every meta0 gets the same map (the same input gives the same assignment).
      for (const m0 of meta0) await new Meta0Client(m0).meta0Init(meta1, { replicas });
      showList(ctx.io, ctx.format, ['meta0', 'meta1', 'replicas'], meta0.map((m0) => ({ meta0: m0, meta1: meta1.join(','), replicas })));
    },
  },
  {
    name: 'policy list', usage: 'policy list', summary: 'storage policies and their data security',
    async run(ctx) {
      const ns = await ctx.storage.clusterInfo();
      const rows = Object.entries(ns.storagePolicies).map(([name, def]) => {
        const ds = def.split(':')[1] ?? 'NONE';
        return { Name: name, Pool: def.split(':')[0], 'Data security': ds, Definition: ns.dataSecurity[ds] ?? '?', Default: name === ns.storagePolicy };
      });
      showList(ctx.io, ctx.format, ['Name', 'Pool', 'Data security', 'Definition', 'Default'], rows);
    },
  },
];
