/**
 * @module gateways/admin-ssh/completion
 * Tab completion for the console, pure except for the container lister it is given:
 * command words (`cl` -> `cluster`, `cluster w` -> `watch`), flags from the command's usage,
 * and container names where the usage expects a container.
 */

export interface CompletionCommand {
  /** command words, e.g. "container show" */
  name: string;
  /** usage text, e.g. "container show NAME [--format F]" */
  usage: string;
}

export interface CompletionSource {
  commands: readonly CompletionCommand[];
  /** flags that take no value (so the next word is not their value) */
  booleans: readonly string[];
  /** existing containers starting with `prefix` */
  containers(prefix: string): Promise<string[]>;
}

export interface Completion {
  /** the word being completed */
  partial: string;
  candidates: string[];
}

const GLOBAL_FLAGS = ['--format', '--oio-account', '--help'];

/** Whether a usage placeholder stands for a container name. */
function isContainerSlot(commandName: string, placeholder: string): boolean {
  const p = placeholder.replace(/\.\.\.$/, '');
  return p === 'CONTAINER' || (commandName.startsWith('container ') && p === 'NAME');
}

/** Candidates for the word under the cursor, given the text left of it. */
export async function complete(beforeCursor: string, src: CompletionSource): Promise<Completion> {
  const words = beforeCursor.split(/\s+/).filter(Boolean);
  const partial = /\s$/.test(beforeCursor) || beforeCursor === '' ? '' : words.pop() ?? '';
  if (words[0] === 'oio') words.shift();
  if (words[0] === 'help') words.shift();
  const uniq = (xs: string[]) => [...new Set(xs)].filter((x) => x.startsWith(partial)).sort();

  // Still naming the command: next word of every command that starts with the words typed.
  const prefixOf = (c: CompletionCommand) => c.name.split(' ');
  const exact = src.commands.find((c) => {
    const w = prefixOf(c);
    return w.length <= words.length && w.every((x, i) => x === words[i]);
  });
  if (!exact) {
    const next = src.commands.map(prefixOf).filter((w) => w.length > words.length && words.every((x, i) => w[i] === x)).map((w) => w[words.length]!);
    return { partial, candidates: uniq(next) };
  }

  const usageWords = exact.usage.split(/\s+/).slice(prefixOf(exact).length);
  if (partial.startsWith('-')) {
    const flags = [...(exact.usage.match(/--[a-z][a-z-]*/g) ?? []), ...GLOBAL_FLAGS];
    return { partial, candidates: uniq(flags) };
  }
  // Which positional is this? Skip flags and the values of flags that take one.
  const args = words.slice(prefixOf(exact).length);
  let index = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--')) { if (!a.includes('=') && !src.booleans.includes(a.slice(2))) i++; continue; }
    index++;
  }
  const prev = args[args.length - 1];
  if (prev?.startsWith('--') && !prev.includes('=') && !src.booleans.includes(prev.slice(2))) return { partial, candidates: [] };
  const slots = usageWords.filter((w) => /^[A-Z][A-Z_|]*(\.\.\.)?$/.test(w));
  const last = slots[slots.length - 1];
  const slot = slots[index] ?? (last?.endsWith('...') ? last : undefined);
  if (slot && isContainerSlot(exact.name, slot)) return { partial, candidates: uniq(await src.containers(partial)) };
  return { partial, candidates: [] };
}

/** What Tab does with candidates: text to insert at the cursor, or a list to show. */
export function applyCompletion(c: Completion): { insert: string; show: string[] } {
  if (c.candidates.length === 0) return { insert: '', show: [] };
  if (c.candidates.length === 1) return { insert: c.candidates[0]!.slice(c.partial.length) + ' ', show: [] };
  let common = c.candidates[0]!;
  for (const x of c.candidates) while (!x.startsWith(common)) common = common.slice(0, -1);
  if (common.length > c.partial.length) return { insert: common.slice(c.partial.length), show: [] };
  return { insert: '', show: c.candidates };
}
