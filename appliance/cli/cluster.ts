/**
 * @module cli/cluster
 * `oio cluster show|list|lock|unlock` and `oio policy list`: the namespace as the conscience
 * sees it (like `openio cluster show`).
 */
import type { Command } from './context';
import { need } from './context';
import { flagInt } from './args';
import { showList, showRecord } from './output';

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
      const types = ctx.args.positionals;
      const all = await ctx.storage.clusterList();
      const rows = all.filter((s) => !types.length || types.includes(s.type))
        .sort((a, b) => (a.type + a.id < b.type + b.id ? -1 : 1))
        .map((s) => ({
          Type: s.type, Id: s.id, Addr: s.addr, Volume: s.tags['tag.vol'] ?? '', Location: s.loc, Slots: s.slots.join(','),
          Up: s.tags['tag.up'] !== false, Score: s.score, 'Get score': s.scoreGet, Locked: s.locked,
          CPU: s.tags['stat.cpu'], IO: s.tags['stat.io'], Space: s.tags['stat.space'],
        }));
      showList(ctx.io, ctx.format, ['Type', 'Id', 'Addr', 'Volume', 'Location', 'Slots', 'Up', 'Score', 'Get score', 'Locked', 'CPU', 'IO', 'Space'], rows);
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
