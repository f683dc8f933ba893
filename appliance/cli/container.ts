/**
 * @module cli/container
 * `oio container create|show|list|set|delete` (argument order of the `openio` CLI).
 */
import type { Command } from './context';
import { need } from './context';
import { flagInt, flagProps, flagStr } from './args';
import { showList, showRecord } from './output';

export const containerCommands: Command[] = [
  {
    name: 'container create', usage: 'container create NAME... [--storage-policy P] [--max-versions N] [--quota BYTES] [--property K=V]',
    summary: 'create containers',
    async run(ctx) {
      const names = need(ctx, 1, this.usage);
      const rows: Array<Record<string, unknown>> = [];
      for (const name of names) {
        await ctx.storage.containerCreate(name, {
          policy: flagStr(ctx.args, 'storage-policy', 'policy'), maxVersions: flagInt(ctx.args, 'max-versions'),
          quota: flagInt(ctx.args, 'quota'), properties: flagProps(ctx.args),
        });
        rows.push({ Name: name, Created: true });
      }
      showList(ctx.io, ctx.format, ['Name', 'Created'], rows);
    },
  },
  {
    name: 'container show', usage: 'container show NAME', summary: 'container settings and usage',
    async run(ctx) {
      const [name] = need(ctx, 1, this.usage);
      const c = await ctx.storage.containerShow(name!);
      const rec: Record<string, unknown> = {
        account: c.account, container: c.container, base_name: c.cid, ctime: Math.floor(c.ctime / 1000), objects: c.objects, bytes_usage: c.bytes,
        storage_policy: c.system.policy ?? 'Namespace default', max_versions: c.system.max_versions ?? 'Namespace default', quota: c.system.quota ?? 'Namespace default',
      };
      for (const [k, v] of Object.entries(c.properties ?? {})) rec[`meta.${k}`] = v;
      showRecord(ctx.io, ctx.format, rec);
    },
  },
  {
    name: 'container list', usage: 'container list [--prefix P] [--marker M] [--limit N]', summary: 'containers of the account',
    async run(ctx) {
      const limit = flagInt(ctx.args, 'limit');
      const rows: Array<Record<string, unknown>> = [];
      let marker = flagStr(ctx.args, 'marker');
      for (;;) {
        const page = await ctx.storage.containerList({ prefix: flagStr(ctx.args, 'prefix'), marker, limit: limit ?? 1000 });
        for (const c of page.containers) rows.push({ Name: c.name, Bytes: c.bytes, Count: c.objects });
        if (!page.truncated || limit !== undefined || !page.next_marker) break;
        marker = page.next_marker;
      }
      showList(ctx.io, ctx.format, ['Name', 'Bytes', 'Count'], rows);
    },
  },
  {
    name: 'container set', usage: 'container set NAME [--storage-policy P] [--max-versions N] [--quota BYTES] [--property K=V]',
    summary: 'change container settings and properties',
    async run(ctx) {
      const [name] = need(ctx, 1, this.usage);
      await ctx.storage.containerSet(name!, {
        policy: flagStr(ctx.args, 'storage-policy', 'policy'), maxVersions: flagInt(ctx.args, 'max-versions'),
        quota: flagInt(ctx.args, 'quota'), properties: flagProps(ctx.args), clear: ctx.args.flags.clear === true,
      });
    },
  },
  {
    name: 'container delete', usage: 'container delete NAME... [--force]', summary: 'delete empty containers',
    async run(ctx) {
      for (const name of need(ctx, 1, this.usage)) await ctx.storage.containerDelete(name, { force: ctx.args.flags.force === true });
    },
  },
];
