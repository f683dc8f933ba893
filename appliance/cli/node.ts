/**
 * @module cli/node
 * `oio node status`: one node's services as the conscience sees them, with each volume's
 * device, capacity (statfs, when the volume is visible from here: on the node itself or in
 * its SSH console), idle IO, free space and scores. (`oio node up` is the runtime's.)
 */
import fs from 'node:fs';
import { formatSize } from '../common';
import type { Command } from './context';
import { flagStr } from './args';
import { showList } from './output';

const hostOf = (addr: string): string => addr.replace(/:\d+$/, '');

export const nodeCommands: Command[] = [
  {
    name: 'node status', usage: 'node status [--ip IP]', summary: 'services and volumes of one node (default: the proxy\'s): device, capacity, IO, scores',
    async run(ctx) {
      const ip = flagStr(ctx.args, 'ip') ?? hostOf(flagStr(ctx.args, 'proxy') ?? ctx.env.OIO_PROXY ?? '127.0.0.1:6006');
      const services = (await ctx.storage.clusterList()).filter((s) => hostOf(s.addr) === ip)
        .sort((a, b) => (a.type + a.id < b.type + b.id ? -1 : 1));
      const rows = await Promise.all(services.map(async (s) => {
        const vol = String(s.tags['tag.vol'] ?? '');
        const st = vol && s.type === 'rawx' ? await fs.promises.statfs(vol).catch(() => undefined) : undefined;
        return {
          Type: s.type, Id: s.id, Volume: s.type === 'rawx' ? vol : '', Device: s.tags['tag.dev'] ?? '',
          Size: st ? formatSize(st.blocks * st.bsize) : '', Free: st ? formatSize(st.bavail * st.bsize) : '',
          'Space %': s.tags['stat.space'], 'IO idle %': s.tags['tag.io'] === 'unknown' ? 'unknown' : s.tags['stat.io'], 'CPU idle %': s.tags['stat.cpu'],
          Score: s.score, 'Get score': s.scoreGet, Up: s.tags['tag.up'] !== false, Locked: s.locked,
        };
      }));
      showList(ctx.io, ctx.format, ['Type', 'Id', 'Volume', 'Device', 'Size', 'Free', 'Space %', 'IO idle %', 'CPU idle %', 'Score', 'Get score', 'Up', 'Locked'], rows);
    },
  },
];
