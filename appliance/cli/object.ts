/**
 * @module cli/object
 * `oio object create|save|show|list|delete|link` (argument order of the `openio` CLI:
 * `oio object create CONTAINER FILE --name NAME --policy POLICY`,
 * `oio object save CONTAINER OBJECT --file PATH`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { InvalidArgumentError, OioError, isReservedName } from '../common';
import type { Command } from './context';
import { need } from './context';
import { flagInt, flagProps, flagStr } from './args';
import { progressBar, showList, showRecord } from './output';
import type { ContentInfo } from '../common/model';

function contentRecord(account: string, container: string, c: ContentInfo): Record<string, unknown> {
  const rec: Record<string, unknown> = {
    account, container, object: c.name, id: c.id, version: c.version, size: c.size, hash: c.hash, 'mime-type': c.mime,
    policy: c.policy, chunk_method: c.chunkMethod, ctime: Math.floor(c.ctime / 1000), deleted: c.deleted,
  };
  for (const [k, v] of Object.entries(c.properties ?? {})) rec[`meta.${k}`] = v;
  return rec;
}

export const objectCommands: Command[] = [
  {
    name: 'object create', usage: 'object create CONTAINER FILE... [--name NAME] [--policy P] [--mime-type T] [--property K=V]',
    summary: 'upload files as objects',
    async run(ctx) {
      const [container, ...files] = need(ctx, 2, this.usage);
      if (ctx.io.localFiles === false) throw new OioError('NOT_ALLOWED', 'the console cannot read files of the host: upload with the S3 gateway or the local oio CLI');
      const name = flagStr(ctx.args, 'name');
      if (name !== undefined && files.length > 1) throw new InvalidArgumentError('BAD_REQUEST', '--name needs a single FILE');
      const rows: Array<Record<string, unknown>> = [];
      for (const file of files) {
        const fromStdin = file === '-';
        const size = fromStdin ? undefined : (await fs.promises.stat(file).catch(() => { throw new InvalidArgumentError('BAD_REQUEST', `${file}: no such file`); })).size;
        const objName = name ?? (fromStdin ? undefined : path.basename(file));
        if (!objName) throw new InvalidArgumentError('BAD_REQUEST', 'reading stdin needs --name');
        const bar = progressBar(ctx.io, objName, size);
        const c = await ctx.storage.objectPut(container!, objName, fromStdin ? process.stdin : file, {
          size, policy: flagStr(ctx.args, 'policy'), mime: flagStr(ctx.args, 'mime-type'), properties: flagProps(ctx.args), onProgress: (n) => bar.update(n),
        });
        bar.done();
        rows.push({ Name: c.name, Size: c.size, Hash: c.hash, Version: c.version });
      }
      showList(ctx.io, ctx.format, ['Name', 'Size', 'Hash', 'Version'], rows);
    },
  },
  {
    name: 'object save', usage: 'object save CONTAINER OBJECT [--file PATH] [--object-version V] [--range START-END]',
    summary: 'download an object to a file ("-" for stdout)',
    async run(ctx) {
      const [container, object] = need(ctx, 2, this.usage);
      if (ctx.io.localFiles === false) throw new OioError('NOT_ALLOWED', 'the console cannot write files of the host: download with the S3 gateway or the local oio CLI');
      const file = flagStr(ctx.args, 'file') ?? path.basename(object!);
      const range = flagStr(ctx.args, 'range');
      let start: number | undefined;
      let end: number | undefined;
      if (range !== undefined) {
        const m = /^(\d*)-(\d*)$/.exec(range);
        if (!m) throw new InvalidArgumentError('BAD_REQUEST', '--range wants START-END');
        start = m[1] ? Number(m[1]) : undefined;
        end = m[2] ? Number(m[2]) : undefined;
      }
      const r = await ctx.storage.objectGet(container!, object!, { version: flagStr(ctx.args, 'object-version'), start, end });
      const total = r.content.size === 0 ? 0 : r.end - r.start + 1;
      const bar = progressBar(ctx.io, object!, total);
      let n = 0;
      const count = new Transform({ transform(b: Buffer, _e, cb) { n += b.length; bar.update(n); cb(null, b); } });
      if (file === '-') {
        await pipeline(r.stream, count, process.stdout, { end: false } as never);
      } else {
        const tmp = `${file}.oio-part`;
        await pipeline(r.stream, count, fs.createWriteStream(tmp));
        await fs.promises.rename(tmp, file);
      }
      bar.done();
    },
  },
  {
    name: 'object show', usage: 'object show CONTAINER OBJECT [--object-version V]', summary: 'object metadata and properties',
    async run(ctx) {
      const [container, object] = need(ctx, 2, this.usage);
      const c = await ctx.storage.objectHead(container!, object!, flagStr(ctx.args, 'object-version'));
      showRecord(ctx.io, ctx.format, contentRecord(ctx.storage.account, container!, c));
    },
  },
  {
    name: 'object list', usage: 'object list CONTAINER [--prefix P] [--delimiter D] [--marker M] [--limit N] [--versions] [--all]',
    summary: 'objects of a container (--all: with S3 multipart uploads in progress)',
    async run(ctx) {
      const [container] = need(ctx, 1, this.usage);
      const limit = flagInt(ctx.args, 'limit');
      const all = ctx.args.flags.all === true;
      const rows: Array<Record<string, unknown>> = [];
      let marker = flagStr(ctx.args, 'marker');
      for (;;) {
        const page = await ctx.storage.objectList(container!, {
          prefix: flagStr(ctx.args, 'prefix'), delimiter: flagStr(ctx.args, 'delimiter'), marker, limit: limit ?? 1000, versions: ctx.args.flags.versions === true,
        });
        const shown = (name: string) => all || !isReservedName(name);
        for (const p of page.prefixes.filter(shown)) rows.push({ Name: p, Size: '', Hash: '', Version: '' });
        for (const o of page.objects.filter((x) => shown(x.name))) rows.push({ Name: o.name, Size: o.size, Hash: o.hash, Version: o.version, ...(o.deleted ? { Deleted: true } : {}) });
        if (!page.truncated || limit !== undefined || !page.next_marker) break;
        marker = page.next_marker;
      }
      showList(ctx.io, ctx.format, ['Name', 'Size', 'Hash', 'Version'], rows);
    },
  },
  {
    name: 'object delete', usage: 'object delete CONTAINER OBJECT... [--object-version V]', summary: 'delete objects',
    async run(ctx) {
      const [container, ...objects] = need(ctx, 2, this.usage);
      for (const o of objects) await ctx.storage.objectDelete(container!, o, flagStr(ctx.args, 'object-version'));
    },
  },
  {
    name: 'object link', usage: 'object link CONTAINER OBJECT NEW_NAME', summary: 'a new name for the same chunks (no data copied)',
    async run(ctx) {
      const [container, object, dest] = need(ctx, 3, this.usage);
      const c = await ctx.storage.objectLink(container!, object!, dest!);
      showRecord(ctx.io, ctx.format, contentRecord(ctx.storage.account, container!, c));
    },
  },
  {
    name: 'object set', usage: 'object set CONTAINER OBJECT --property K=V...', summary: 'set object properties',
    async run(ctx) {
      const [container, object] = need(ctx, 2, this.usage);
      const props = flagProps(ctx.args);
      if (!props) throw new InvalidArgumentError('BAD_REQUEST', 'object set needs --property K=V');
      await ctx.storage.objectSetProperties(container!, object!, props, [], flagStr(ctx.args, 'object-version'));
    },
  },
];
