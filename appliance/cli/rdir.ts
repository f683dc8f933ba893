/**
 * @module cli/rdir
 * `oio rdir ...`: the reverse index of each rawx volume. `list` pairs every rawx with its
 * rdir; `status` counts a volume's chunks (per container); `fetch` lists what a volume holds
 * (what a rebuilder needs when the volume is lost); `rebuild` re-indexes a volume from its
 * chunk files. VOLUME is a rawx id or address, a volume path or its folder name (disk label).
 */
import { cidOf } from '../common';
import { findVolume, rdirOf, rebuildRdir, volumesOf } from '../client/rdir-volume';
import { flagStr } from './args';
import { need, type Command } from './context';
import { showList, showRecord } from './output';

export const rdirCommands: Command[] = [
  {
    name: 'rdir list', usage: 'rdir list', summary: 'every rawx volume with the rdir that indexes it',
    async run(ctx) {
      const vols = volumesOf(await ctx.storage.clusterList());
      showList(ctx.io, ctx.format, ['Volume', 'Rawx', 'Rawx addr', 'Rdir', 'Rdir addr', 'Rdir score'], vols.map((v) => ({
        Volume: v.volume, Rawx: v.rawx.id, 'Rawx addr': v.rawx.addr, Rdir: v.rdir?.id ?? '(none)', 'Rdir addr': v.rdir?.addr ?? '', 'Rdir score': v.rdir?.score ?? '',
      })));
    },
  },
  {
    name: 'rdir status', usage: 'rdir status VOLUME', summary: 'chunks and bytes a volume holds, in total and per container (from its rdir)',
    async run(ctx) {
      const [name] = need(ctx, 1, 'rdir status VOLUME');
      const v = findVolume(await ctx.storage.clusterList(), name!);
      const s = await rdirOf(v).rdirStatus();
      if (ctx.format === 'json') { ctx.io.out(JSON.stringify({ rawx: v.rawx.id, rdir: v.rdir?.id, ...s }, null, 2) + '\n'); return; }
      showRecord(ctx.io, ctx.format, { Volume: s.volume, Rawx: v.rawx.id, Rdir: v.rdir?.id, Chunks: s.chunks.total, Bytes: s.chunks.bytes, Containers: Object.keys(s.containers).length });
    },
  },
  {
    name: 'rdir fetch', usage: 'rdir fetch VOLUME [--container NAME | --container-id CID] [--limit N]',
    summary: 'the chunks a volume holds, from its rdir: container id, content, position, chunk id (what a rebuilder reads)',
    async run(ctx) {
      const [name] = need(ctx, 1, 'rdir fetch VOLUME');
      const v = findVolume(await ctx.storage.clusterList(), name!);
      const container = flagStr(ctx.args, 'container');
      const containerId = container ? cidOf(ctx.storage.account, container) : flagStr(ctx.args, 'container-id');
      const limitRaw = flagStr(ctx.args, 'limit');
      const rdir = rdirOf(v);
      const chunks = limitRaw ? (await rdir.rdirFetch({ containerId, limit: Number(limitRaw) })).chunks : await rdir.rdirFetchAll({ containerId });
      if (ctx.format === 'json') { ctx.io.out(JSON.stringify(chunks, null, 2) + '\n'); return; }
      showList(ctx.io, ctx.format, ['Container id', 'Content id', 'Pos', 'Chunk id', 'Size', 'Path'], chunks.map((c) => ({
        'Container id': c.container_id, 'Content id': c.content_id, Pos: c.pos, 'Chunk id': c.chunk_id, Size: c.size, Path: c.content_path,
      })));
    },
  },
  {
    name: 'rdir rebuild', usage: 'rdir rebuild VOLUME', summary: 're-index a volume from its chunk files (after its rdir base was lost or wiped)',
    async run(ctx) {
      const [name] = need(ctx, 1, 'rdir rebuild VOLUME');
      const v = findVolume(await ctx.storage.clusterList(), name!);
      const rdir = rdirOf(v);
      const r = await rebuildRdir(v.rawx.addr, rdir.addr);
      showRecord(ctx.io, ctx.format, { Volume: r.volume, Rawx: v.rawx.id, Rdir: v.rdir?.id, Pushed: r.pushed, Removed: r.removed, 'Duration ms': r.durationMs });
    },
  },
];
