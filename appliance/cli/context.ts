/**
 * @module cli/context
 * What every `oio` command gets: parsed arguments, output streams, the output format and a
 * client library bound to the proxy and account (`--proxy`/OIO_PROXY, `--oio-account`/OIO_ACCOUNT).
 */
import { ObjectStorage } from '../client/object-storage';
import type { ParsedArgs } from './args';
import { flagStr } from './args';
import type { CliIO, Format } from './output';
import { InvalidArgumentError } from '../common';

export interface CommandContext {
  args: ParsedArgs;
  io: CliIO;
  format: Format;
  storage: ObjectStorage;
  env: Record<string, string | undefined>;
  signal?: AbortSignal;
}

export const GLOBAL_BOOLEANS = ['help', 'force', 'versions', 'quiet', 'clear', 'stdout', 'all'] as const;
export const GLOBAL_REPEATABLE = ['property'] as const;

export function makeContext(args: ParsedArgs, io: CliIO, env: Record<string, string | undefined>, signal?: AbortSignal): CommandContext {
  const format = (flagStr(args, 'format', 'f') ?? 'table') as Format;
  if (!['table', 'json', 'value'].includes(format)) throw new InvalidArgumentError('BAD_REQUEST', `--format must be table, json or value, not "${format}"`);
  const proxy = flagStr(args, 'proxy') ?? env.OIO_PROXY ?? '127.0.0.1:6006';
  const account = flagStr(args, 'oio-account', 'account') ?? env.OIO_ACCOUNT ?? 'default';
  return { args, io, format, storage: new ObjectStorage({ proxy, account }), env, signal };
}

export interface Command {
  /** e.g. "container create" */
  name: string;
  usage: string;
  summary: string;
  run(ctx: CommandContext): Promise<number | void>;
}

export function need(ctx: CommandContext, n: number, usage: string): string[] {
  const p = ctx.args.positionals;
  if (p.length < n) throw new InvalidArgumentError('BAD_REQUEST', `usage: oio ${usage}`);
  return p;
}
