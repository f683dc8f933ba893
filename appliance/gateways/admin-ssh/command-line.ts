/**
 * @module gateways/admin-ssh/command-line
 * Splits a console line into words the way a user expects from a shell (spaces, 'single'
 * and "double" quotes, backslash escapes) without ever being one: unquoted pipes,
 * redirections, `;`, `&`, `$`, backquotes and globs are refused, not interpreted.
 */
import { InvalidArgumentError } from '../../common';

const META = new Set(['|', ';', '&', '<', '>', '$', '`', '*', '?', '(', ')', '{', '}']);

/** The words of `line`; throws BAD_REQUEST on an unterminated quote or a shell operator. */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") { if (c === "'") quote = undefined; else cur += c; continue; }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < line.length && '"\\'.includes(line[i + 1]!)) cur += line[++i];
      else cur += c;
      continue;
    }
    if (c === "'" || c === '"') { quote = c; inWord = true; continue; }
    if (c === '\\') {
      if (i + 1 >= line.length) throw new InvalidArgumentError('BAD_REQUEST', 'trailing backslash');
      cur += line[++i];
      inWord = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) { words.push(cur); cur = ''; inWord = false; }
      continue;
    }
    if (META.has(c)) {
      throw new InvalidArgumentError('BAD_REQUEST', `"${c}": this console is not a shell (no pipes, redirections, variables, globs or command lists); quote it to pass it as text`);
    }
    cur += c;
    inWord = true;
  }
  if (quote) throw new InvalidArgumentError('BAD_REQUEST', `unterminated ${quote} quote`);
  if (inWord) words.push(cur);
  return words;
}
