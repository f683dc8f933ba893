/**
 * @module gateways/admin-ssh/line-editor
 * The console's line editing, pure (no I/O): `KeyDecoder` turns terminal input (keys and
 * escape sequences, possibly split across packets) into keys; `LineEditor` applies them to
 * the line (cursor moves, deletes, Emacs bindings Ctrl-A/E/U/W/K) and to the history
 * (up/down), and renders the line as ANSI text to redraw it.
 */

export type KeyName =
  | 'enter' | 'backspace' | 'delete' | 'left' | 'right' | 'up' | 'down' | 'home' | 'end' | 'tab'
  | 'ctrl-a' | 'ctrl-e' | 'ctrl-u' | 'ctrl-w' | 'ctrl-k' | 'ctrl-c' | 'ctrl-d' | 'ctrl-l';

export type Key = { name: 'char'; ch: string } | { name: KeyName };

const CONTROL: Record<string, KeyName> = {
  '\r': 'enter', '\n': 'enter', '\x7f': 'backspace', '\x08': 'backspace', '\t': 'tab',
  '\x01': 'ctrl-a', '\x05': 'ctrl-e', '\x15': 'ctrl-u', '\x17': 'ctrl-w', '\x0b': 'ctrl-k',
  '\x03': 'ctrl-c', '\x04': 'ctrl-d', '\x0c': 'ctrl-l', '\x02': 'left', '\x06': 'right', '\x10': 'up', '\x0e': 'down',
};

/** CSI / SS3 sequences (after ESC) we understand; others are consumed and ignored. */
const SEQUENCES: Record<string, KeyName> = {
  '[A': 'up', '[B': 'down', '[C': 'right', '[D': 'left', '[H': 'home', '[F': 'end',
  OA: 'up', OB: 'down', OC: 'right', OD: 'left', OH: 'home', OF: 'end',
  '[1~': 'home', '[7~': 'home', '[4~': 'end', '[8~': 'end', '[3~': 'delete',
};

/** Terminal input to keys; keeps an escape sequence cut between two packets. */
export class KeyDecoder {
  private pending = '';

  feed(data: string): Key[] {
    const s = this.pending + data;
    this.pending = '';
    const keys: Key[] = [];
    let i = 0;
    while (i < s.length) {
      const c = s[i]!;
      if (c === '\x1b') {
        const next = s[i + 1];
        if (next === undefined) { this.pending = s.slice(i); break; }
        if (next === '[' || next === 'O') {
          // CSI: parameters 0x30-0x3f, then a final byte 0x40-0x7e; SS3: one byte.
          let j = i + 2;
          if (next === '[') while (j < s.length && s.charCodeAt(j) >= 0x30 && s.charCodeAt(j) <= 0x3f) j++;
          if (j >= s.length) { this.pending = s.slice(i); break; }
          const seq = s.slice(i + 1, j + 1);
          const name = SEQUENCES[seq];
          if (name) keys.push({ name });
          i = j + 1;
          continue;
        }
        i += 1; // a lone ESC (or Alt-x): dropped
        continue;
      }
      if (c === '\r' && s[i + 1] === '\n') { keys.push({ name: 'enter' }); i += 2; continue; }
      const ctl = CONTROL[c];
      if (ctl) keys.push({ name: ctl });
      else if (c >= ' ') {
        const cp = s.codePointAt(i)!;
        const ch = String.fromCodePoint(cp);
        keys.push({ name: 'char', ch });
        i += ch.length;
        continue;
      }
      i += 1;
    }
    return keys;
  }
}

export type EditorEvent =
  | { type: 'none' }
  | { type: 'changed' }
  | { type: 'submit'; line: string }
  | { type: 'interrupt' }
  | { type: 'eof' }
  | { type: 'complete' }
  | { type: 'clear-screen' };

/** One line being edited, with its history. */
export class LineEditor {
  private chars: string[] = [];
  /** cursor position in characters (0..length) */
  private pos = 0;
  private readonly history: string[] = [];
  /** index in history while browsing; history.length = the line being typed */
  private histPos = 0;
  private draft = '';

  constructor(private readonly historySize = 500) {}

  get line(): string { return this.chars.join(''); }
  get cursor(): number { return this.pos; }
  /** the text left of the cursor (what completion looks at) */
  get beforeCursor(): string { return this.chars.slice(0, this.pos).join(''); }
  get entries(): readonly string[] { return this.history; }

  /** Replaces the line (cursor at the end). */
  setLine(text: string): void {
    this.chars = Array.from(text);
    this.pos = this.chars.length;
  }

  /** Inserts text at the cursor (typing, paste, completion). */
  insert(text: string): void {
    const add = Array.from(text).filter((c) => c >= ' ');
    this.chars.splice(this.pos, 0, ...add);
    this.pos += add.length;
  }

  /** Adds a line to the history (not empty lines nor a repeat of the last one). */
  addHistory(line: string): void {
    if (line.trim() && this.history[this.history.length - 1] !== line) {
      this.history.push(line);
      if (this.history.length > this.historySize) this.history.shift();
    }
    this.histPos = this.history.length;
    this.draft = '';
  }

  handle(key: Key): EditorEvent {
    const changed: EditorEvent = { type: 'changed' };
    switch (key.name) {
      case 'char': this.insert(key.ch); return changed;
      case 'enter': {
        const line = this.line;
        this.addHistory(line);
        this.chars = [];
        this.pos = 0;
        return { type: 'submit', line };
      }
      case 'backspace':
        if (this.pos === 0) return { type: 'none' };
        this.chars.splice(--this.pos, 1);
        return changed;
      case 'delete':
        if (this.pos >= this.chars.length) return { type: 'none' };
        this.chars.splice(this.pos, 1);
        return changed;
      case 'ctrl-d':
        if (this.chars.length === 0) return { type: 'eof' };
        if (this.pos >= this.chars.length) return { type: 'none' };
        this.chars.splice(this.pos, 1);
        return changed;
      case 'left': if (this.pos === 0) return { type: 'none' }; this.pos--; return changed;
      case 'right': if (this.pos >= this.chars.length) return { type: 'none' }; this.pos++; return changed;
      case 'home': case 'ctrl-a': this.pos = 0; return changed;
      case 'end': case 'ctrl-e': this.pos = this.chars.length; return changed;
      case 'ctrl-u': this.chars.splice(0, this.pos); this.pos = 0; return changed;
      case 'ctrl-k': this.chars.splice(this.pos); return changed;
      case 'ctrl-w': {
        let start = this.pos;
        while (start > 0 && this.chars[start - 1] === ' ') start--;
        while (start > 0 && this.chars[start - 1] !== ' ') start--;
        this.chars.splice(start, this.pos - start);
        this.pos = start;
        return changed;
      }
      case 'up':
        if (this.histPos === 0) return { type: 'none' };
        if (this.histPos === this.history.length) this.draft = this.line;
        this.setLine(this.history[--this.histPos]!);
        return changed;
      case 'down':
        if (this.histPos >= this.history.length) return { type: 'none' };
        this.histPos++;
        this.setLine(this.histPos === this.history.length ? this.draft : this.history[this.histPos]!);
        return changed;
      case 'ctrl-c':
        this.chars = [];
        this.pos = 0;
        this.histPos = this.history.length;
        return { type: 'interrupt' };
      case 'tab': return { type: 'complete' };
      case 'ctrl-l': return { type: 'clear-screen' };
    }
  }

  /**
   * ANSI text redrawing prompt and line on the current row, cursor in place. With `cols`
   * (the terminal width), a line too long for the row scrolls sideways to keep the cursor
   * visible instead of wrapping (which `\r` could not redraw).
   */
  render(prompt: string, cols?: number): string {
    const room = cols !== undefined ? cols - prompt.length - 1 : Infinity;
    let start = 0;
    if (room >= 8 && this.chars.length > room) start = Math.max(0, Math.min(this.pos - room + 1, this.chars.length - room));
    if (room >= 8 && this.pos - start >= room) start = this.pos - room + 1;
    const shown = room >= 8 ? this.chars.slice(start, start + room) : this.chars;
    const back = start + shown.length - this.pos;
    return `\r${prompt}${shown.join('')}\x1b[K${back > 0 ? `\x1b[${back}D` : ''}`;
  }
}
