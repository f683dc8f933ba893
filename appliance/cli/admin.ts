/**
 * @module cli/admin
 * `oio admin key add|list|remove` and `oio admin password set|remove`: the SSH admin
 * console's credentials. They are files in the node's data folder (`DATA/admin-ssh/`, see
 * `admin-store.ts`), edited locally on the node: `--data DIR` (default `OIO_DATA_DIR`, then
 * `./.oio-data`) names the node's data folder. Inside the console the node's own folder is
 * used and `--data`, key files and password files are refused (no access to the host's files).
 */
import fs from 'node:fs';
import { InvalidArgumentError, OioError } from '../common';
import type { Command, CommandContext } from './context';
import { need } from './context';
import { flagStr } from './args';
import { showList } from './output';
import { AdminStore, adminSshDir } from './admin-store';

function storeOf(ctx: CommandContext): AdminStore {
  const flag = flagStr(ctx.args, 'data');
  if (flag !== undefined && ctx.io.localFiles === false) throw new OioError('NOT_ALLOWED', '--data is not available in the console (it manages its own node)');
  return new AdminStore(adminSshDir(flag ?? ctx.env.OIO_DATA_DIR ?? './.oio-data'));
}

/** A key given inline (`ssh-ed25519 AAAA... comment`, quoted) or as a .pub file path. */
async function keyText(ctx: CommandContext, words: string[]): Promise<string> {
  const joined = words.join(' ');
  if (/^(ssh-|ecdsa-)/.test(joined)) return joined;
  if (ctx.io.localFiles === false) throw new OioError('NOT_ALLOWED', 'the console cannot read files of the host: paste the key text ("ssh-ed25519 AAAA... comment")');
  const text = await fs.promises.readFile(joined, 'utf8').catch(() => { throw new InvalidArgumentError('BAD_REQUEST', `${joined}: no such key file`); });
  const first = text.split('\n').find((l) => l.trim() && !l.startsWith('#'));
  if (!first) throw new InvalidArgumentError('BAD_REQUEST', `${joined}: empty key file`);
  return first;
}

export const adminCommands: Command[] = [
  {
    name: 'admin key add', usage: 'admin key add KEY|PUBFILE [--name NAME] [--data DIR]', summary: 'authorize a public key for the SSH console',
    async run(ctx) {
      const words = need(ctx, 1, this.usage);
      const key = await storeOf(ctx).addKey(await keyText(ctx, words), flagStr(ctx.args, 'name'));
      showList(ctx.io, ctx.format, ['Name', 'Type', 'Fingerprint'], [{ Name: key.comment, Type: key.type, Fingerprint: key.fingerprint }]);
    },
  },
  {
    name: 'admin key list', usage: 'admin key list [--data DIR]', summary: 'public keys authorized for the SSH console',
    async run(ctx) {
      const keys = await storeOf(ctx).listKeys();
      showList(ctx.io, ctx.format, ['Name', 'Type', 'Fingerprint'], keys.map((k) => ({ Name: k.comment, Type: k.type, Fingerprint: k.fingerprint })));
    },
  },
  {
    name: 'admin key remove', usage: 'admin key remove FINGERPRINT|NAME [--data DIR]', summary: 'revoke a console key',
    async run(ctx) {
      const [id] = need(ctx, 1, this.usage);
      const gone = await storeOf(ctx).removeKey(id!);
      showList(ctx.io, ctx.format, ['Name', 'Fingerprint', 'Removed'], gone.map((k) => ({ Name: k.comment, Fingerprint: k.fingerprint, Removed: true })));
    },
  },
  {
    name: 'admin password set', usage: 'admin password set [--user admin] [--password-file FILE] [--data DIR]',
    summary: 'set a console password (read from FILE or OIO_ADMIN_PASSWORD; used only with admin_ssh.password_auth on)',
    async run(ctx) {
      if (ctx.io.localFiles === false) throw new OioError('NOT_ALLOWED', 'passwords are set on the node with the local oio CLI, not from the console');
      const file = flagStr(ctx.args, 'password-file');
      const pw = file !== undefined ? (await fs.promises.readFile(file, 'utf8')).replace(/\r?\n$/, '') : ctx.env.OIO_ADMIN_PASSWORD;
      if (!pw) throw new InvalidArgumentError('BAD_REQUEST', 'give the password with --password-file FILE or OIO_ADMIN_PASSWORD');
      await storeOf(ctx).setPassword(flagStr(ctx.args, 'user') ?? 'admin', pw);
    },
  },
  {
    name: 'admin password remove', usage: 'admin password remove [--user admin] [--data DIR]', summary: 'remove a console password',
    async run(ctx) {
      await storeOf(ctx).removePassword(flagStr(ctx.args, 'user') ?? 'admin');
    },
  },
];
