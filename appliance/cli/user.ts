/**
 * @module cli/user
 * `oio user create|list|delete`: S3 credentials (access key -> account + secret). The secret
 * is printed once, by `create`; `list` never shows secrets.
 */
import type { Command } from './context';
import { need } from './context';
import { flagStr } from './args';
import { showList, showRecord } from './output';

export const userCommands: Command[] = [
  {
    name: 'user create', usage: 'user create [ACCESS_KEY] [--secret-key S] [--oio-account ACCOUNT]',
    summary: 'create an S3 user of the account (keys generated when not given; the secret is shown once)',
    async run(ctx) {
      const [access] = ctx.args.positionals;
      const u = await ctx.storage.userCreate({ accessKey: access, secretKey: flagStr(ctx.args, 'secret-key', 'secret') });
      showRecord(ctx.io, ctx.format, { access_key: u.access_key, secret_key: u.secret_key, account: u.account });
    },
  },
  {
    name: 'user list', usage: 'user list [ACCOUNT]', summary: 'S3 users (of every account, or of ACCOUNT), without secrets',
    async run(ctx) {
      const users = await ctx.storage.userList(ctx.args.positionals[0]);
      showList(ctx.io, ctx.format, ['Access key', 'Account', 'Created'], users.map((u) => ({ 'Access key': u.access_key, Account: u.account, Created: new Date(u.ctime).toISOString() })));
    },
  },
  {
    name: 'user delete', usage: 'user delete ACCESS_KEY...', summary: 'delete S3 users (their account and data stay)',
    async run(ctx) {
      const keys = need(ctx, 1, this.usage);
      for (const k of keys) await ctx.storage.userDelete(k);
      showList(ctx.io, ctx.format, ['Access key', 'Deleted'], keys.map((k) => ({ 'Access key': k, Deleted: true })));
    },
  },
];
