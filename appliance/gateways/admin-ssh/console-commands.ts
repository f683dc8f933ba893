/**
 * @module gateways/admin-ssh/console-commands
 * What a console line may run: the `oio` command set (`runCli`, the leading `oio` optional)
 * and the console's own commands (`help`, `exit`, `node logs`). Anything else is refused:
 * words are never given to a shell, and commands cannot read or write the host's files.
 */
import { recentLogLines } from '../../common';
import { COMMANDS, helpText, runCli, type CliIO } from '../../cli';
import type { CompletionCommand } from './completion';

/** Where the console's commands point. */
export interface ConsoleEnv {
  /** proxy host:port of this node */
  proxy: string;
  /** default account of the commands */
  account: string;
  /** the node's data folder (for `oio admin key ...`) */
  nodeDataDir: string;
}

/** The console's own commands (help and completion list them with the oio ones). */
export const CONSOLE_COMMANDS: CompletionCommand[] = [
  { name: 'help', usage: 'help [COMMAND...]' },
  { name: 'exit', usage: 'exit' },
  { name: 'node logs', usage: 'node logs [--lines N] [--level debug|info|warn|error] [--svc TYPE] [--format json]' },
];

const CONSOLE_HELP = `This console runs oio commands only (the leading "oio" is optional); it is not a shell.
  help [COMMAND]   this text, or one command's usage
  exit, Ctrl-D     leave the console
  node logs [--lines N] [--level L] [--svc TYPE] [--format json]
                   the node's recent log lines (kept in memory, last 2,000)
Keys: Left/Right, Home/End, Ctrl-A/E/U/W/K, Backspace/Delete, Up/Down history, Tab completes
commands and container names, Ctrl-C cancels the running command.
Files: run sftp or scp from your machine (sftp admin@NODE, scp FILE admin@NODE:/CONTAINER/PATH);
the top level lists the account's containers.

`;

/** Every command name for completion: oio ones and the console's. */
export function completionCommands(): CompletionCommand[] {
  return [...CONSOLE_COMMANDS, ...COMMANDS.map((c) => ({ name: c.name, usage: c.usage }))];
}

const LEVELS = ['debug', 'info', 'warn', 'error'];

function nodeLogs(args: string[], io: CliIO): number {
  let lines = 50;
  let level: string | undefined;
  let svc: string | undefined;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = args[i + 1];
    if (a === '--lines' && v && /^\d+$/.test(v)) { lines = Number(v); i++; }
    else if (a === '--level' && v && LEVELS.includes(v)) { level = v; i++; }
    else if (a === '--svc' && v) { svc = v; i++; }
    else if (a === '--format' && v === 'json') { json = true; i++; }
    else { io.err(`usage: ${CONSOLE_COMMANDS[2]!.usage}\n`); return 2; }
  }
  const min = level ? LEVELS.indexOf(level) : 0;
  const picked = recentLogLines().map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((r) => LEVELS.indexOf(String(r.level)) >= min && (!svc || r.svc === svc));
  for (const r of picked.slice(Math.max(0, picked.length - lines))) {
    if (json) { io.out(JSON.stringify(r) + '\n'); continue; }
    const { time, level: lv, svc: s, msg, ...rest } = r;
    const extra = Object.keys(rest).length ? ' ' + JSON.stringify(rest) : '';
    io.out(`${String(time)} ${String(lv).padEnd(5)} ${String(s ?? '-')} ${String(msg)}${extra}\n`);
  }
  return 0;
}

/**
 * Runs one parsed console line; resolves with its exit status. `exit` is the caller's
 * (interactive sessions end on it). Unknown first words: status 127, nothing run.
 */
export async function runConsoleCommand(words: string[], io: CliIO, env: ConsoleEnv, signal?: AbortSignal): Promise<number> {
  const argv = words[0] === 'oio' ? words.slice(1) : words;
  if (argv.length === 0) return 0;
  const [first, second] = argv;
  if (first === 'help' || first === '--help') {
    if (argv.length > 1) return runConsoleCommand([...argv.slice(1), '--help'], io, env, signal);
    io.out(CONSOLE_HELP + helpText());
    return 0;
  }
  if (first === 'exit' || first === 'quit' || first === 'logout') return 0;
  if (first === 'node' && second === 'logs') {
    if (argv.includes('--help')) { io.out(`usage: ${CONSOLE_COMMANDS[2]!.usage}\n`); return 0; }
    return nodeLogs(argv.slice(2), io);
  }
  if (first === 'scp' || first === 'sftp' || first === 'rsync') {
    io.err(`${first}: run it from your machine: sftp admin@NODE, scp FILE admin@NODE:/CONTAINER/PATH (files are the account's containers)\n`);
    return 1;
  }
  if (!COMMANDS.some((c) => c.name.split(' ')[0] === first)) {
    io.err(`console: "${first}" is not an oio command; this console runs oio commands only (help lists them)\n`);
    return 127;
  }
  if (argv.some((a) => a === '--proxy' || a.startsWith('--proxy='))) {
    // The console administers its own node: no requests to arbitrary addresses from the host.
    io.err('console: --proxy is not available here (the console uses its node\'s proxy)\n');
    return 2;
  }
  const io2: CliIO = { ...io, localFiles: false };
  return runCli(argv, io2, { OIO_PROXY: env.proxy, OIO_ACCOUNT: env.account, OIO_DATA_DIR: env.nodeDataDir }, signal);
}
