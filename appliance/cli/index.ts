/**
 * @module cli
 * The `oio` command set (one file per resource). `runCli` is shared by the terminal entry
 * and the SSH admin console: arguments are parsed, never handed to a shell; output goes to
 * the given streams; the exit status is returned.
 */
import { isOioError, toOioError } from '../common';
import { parseArgs } from './args';
import { clusterCommands } from './cluster';
import { containerCommands } from './container';
import { objectCommands } from './object';
import { configCommands } from './config';
import { adminCommands } from './admin';
import { nodeCommands } from './node';
import { userCommands } from './user';
import { rdirCommands } from './rdir';
import { Command, GLOBAL_BOOLEANS, GLOBAL_REPEATABLE, makeContext } from './context';
import type { CliIO } from './output';

export type { CliIO } from './output';
export type { Command } from './context';
export { GLOBAL_BOOLEANS } from './context';
export { AdminStore, adminSshDir, parsePublicKey, type AdminKey } from './admin-store';

export const COMMANDS: Command[] = [...clusterCommands, ...containerCommands, ...objectCommands, ...userCommands, ...configCommands, ...nodeCommands, ...rdirCommands, ...adminCommands];

export function helpText(extra: Array<{ usage: string; summary: string }> = []): string {
  const rows = [...extra, ...COMMANDS].map((c) => `  oio ${c.usage}\n      ${c.summary}`);
  return `usage: oio <resource> <verb> [args] [--format table|json|value] [--proxy HOST:PORT] [--oio-account NAME]\n\n${rows.join('\n')}\n`;
}

/** Runs one `oio` command line (without the leading "oio"); resolves with the exit status. */
export async function runCli(argv: readonly string[], io: CliIO, env: Record<string, string | undefined> = {}, signal?: AbortSignal): Promise<number> {
  const [resource, verb, ...rest] = argv;
  if (!resource || resource === 'help' || resource === '--help') { io.out(helpText()); return 0; }
  // Three-word commands first (`admin key add`), then `resource verb`.
  const three = COMMANDS.find((c) => c.name === `${resource} ${verb ?? ''} ${rest[0] ?? ''}`);
  const cmd = three ?? COMMANDS.find((c) => c.name === `${resource} ${verb ?? ''}`);
  if (!cmd) {
    io.err(`oio: unknown command "${[resource, verb].filter(Boolean).join(' ')}" (oio help lists them)\n`);
    return 2;
  }
  try {
    const args = parseArgs(three ? rest.slice(1) : rest, { booleans: GLOBAL_BOOLEANS, repeatable: GLOBAL_REPEATABLE });
    if (args.flags.help) { io.out(`usage: oio ${cmd.usage}\n  ${cmd.summary}\n`); return 0; }
    const ctx = makeContext(args, io, env, signal);
    const rc = await cmd.run(ctx);
    return typeof rc === 'number' ? rc : 0;
  } catch (e) {
    const err = toOioError(e);
    const text = isOioError(e) ? e.message : err.code === 'INTERNAL' ? String((e as Error)?.message ?? e) : err.message;
    io.err(`oio: ${err.code}: ${text}\n`);
    return err.code === 'BAD_REQUEST' && /^usage:/.test(text) ? 2 : 1;
  }
}
