/**
 * @module gateways/admin-ssh/shell-session
 * One interactive console on an SSH channel. With a pty: a prompt naming the namespace and
 * node, line editing and history (`LineEditor`), Tab completion, Ctrl-C cancelling the
 * running command (its AbortSignal fires, its late output is dropped, the prompt returns at
 * once), `exit` / Ctrl-D. Without a pty (`ssh -T`, scripts): one command per input line,
 * no echo, the session's exit status is the last command's.
 */
import { toOioError, type Logger } from '../../common';
import type { CliIO } from '../../cli';
import { splitCommandLine } from './command-line';
import { applyCompletion, complete, type CompletionSource } from './completion';
import { runConsoleCommand, type ConsoleEnv } from './console-commands';
import { KeyDecoder, LineEditor, type Key } from './line-editor';
import type { ServerChannel } from './ssh2';

export interface ShellOptions {
  channel: ServerChannel;
  /** whether the client asked for a pty (interactive editing) */
  pty: boolean;
  prompt: string;
  /** the terminal's width, kept up to date on window-change (0: unknown) */
  terminal: { cols: number };
  env: ConsoleEnv;
  completion: CompletionSource;
  log: Logger;
}

/** `exit`, `quit`, `logout` (with or without a leading `oio`). */
function isExit(words: string[]): boolean {
  const argv = words[0] === 'oio' ? words.slice(1) : words;
  return argv.length === 1 && ['exit', 'quit', 'logout'].includes(argv[0]!);
}

interface Running { abort: AbortController; cancelled: boolean }

/** One console on one channel: `start()` it, `interrupt()` on an SSH INT signal. */
export class ShellSession {
  private readonly decoder = new KeyDecoder();
  private readonly editor = new LineEditor();
  private running: Running | undefined;
  private closed = false;
  private lastStatus = 0;
  /** last character written (to start the prompt on a fresh line) */
  private lastChar = '\n';
  /** no-pty mode: input not yet ending with a newline, and lines waiting their turn */
  private partialLine = '';
  private readonly queue: string[] = [];

  constructor(private readonly opts: ShellOptions) {}

  start(): void {
    const ch = this.opts.channel;
    ch.on('data', (d: Buffer) => this.onData(d.toString('utf8')));
    ch.on('end', () => { if (!this.opts.pty) this.onEndOfInput(); else this.close(0); });
    ch.on('close', () => { this.closed = true; this.running?.abort.abort(); });
    if (this.opts.pty) {
      this.write('OpenIO admin console: oio commands only, "help" lists them, Tab completes, Ctrl-D leaves.\n');
      this.redraw();
    }
  }

  /** Ctrl-C from an SSH "signal" request. */
  interrupt(): void {
    if (this.running) this.cancel();
  }

  private write(s: string): void {
    if (this.closed || !s) return;
    this.lastChar = s[s.length - 1]!;
    this.opts.channel.write(this.opts.pty ? s.replace(/\r?\n/g, '\r\n') : s);
  }

  private redraw(): void {
    if (this.closed) return;
    this.opts.channel.write(this.editor.render(this.opts.prompt, this.opts.terminal.cols || undefined));
    this.lastChar = ' ';
  }

  private onData(text: string): void {
    if (!this.opts.pty) { this.onLines(text); return; }
    this.keys.push(...this.decoder.feed(text));
    if (this.running) {
      // Ctrl-C cancels the running command; keys typed before it are dropped, after it kept.
      const i = this.keys.findIndex((k) => k.name === 'ctrl-c');
      if (i !== -1) { this.keys.splice(0, i + 1); this.cancel(); }
      return;
    }
    this.processKeys();
  }

  /** Keys in order; a Tab completion (asynchronous: it may list containers) holds the keys after it. */
  private readonly keys: Key[] = [];
  private completing = false;

  private processKeys(): void {
    // Keys typed while a command runs wait for the next prompt (type-ahead).
    while (this.keys.length && !this.completing && !this.running && !this.closed) {
      const key = this.keys.shift()!;
      const ev = this.editor.handle(key);
      switch (ev.type) {
        case 'changed': this.redraw(); break;
        case 'none': break;
        case 'interrupt': this.write('^C\n'); this.redraw(); break;
        case 'eof': this.write('\n'); this.close(this.lastStatus); return;
        case 'clear-screen': this.opts.channel.write('\x1b[H\x1b[2J'); this.redraw(); break;
        case 'complete':
          this.completing = true;
          void this.complete().finally(() => { this.completing = false; this.processKeys(); });
          return;
        case 'submit': this.write('\n'); void this.execute(ev.line); break;
      }
    }
  }

  private async complete(): Promise<void> {
    const c = await complete(this.editor.beforeCursor, this.opts.completion).catch(() => ({ partial: '', candidates: [] }));
    if (this.closed) return;
    const r = applyCompletion(c);
    if (r.insert) { this.editor.insert(r.insert); this.redraw(); return; }
    if (r.show.length) { this.write('\n' + r.show.join('  ') + '\n'); this.redraw(); return; }
    this.opts.channel.write('\x07');
  }

  private async execute(line: string): Promise<void> {
    let words: string[];
    try { words = splitCommandLine(line); }
    catch (e) { this.write(`console: ${toOioError(e).message}\n`); this.lastStatus = 2; this.afterCommand(); return; }
    if (isExit(words)) { this.close(this.lastStatus); return; }
    if (words.length === 0) { this.afterCommand(); return; }
    const run: Running = { abort: new AbortController(), cancelled: false };
    this.running = run;
    const io: CliIO = {
      out: (s) => { if (!run.cancelled) this.write(s); },
      err: (s) => { if (!run.cancelled) this.write(s); },
      isTTY: this.opts.pty,
    };
    this.opts.log.info('console command', { argv: words.slice(0, 3) });
    const status = await runConsoleCommand(words, io, this.opts.env, run.abort.signal).catch((e: unknown) => {
      io.err(`console: ${toOioError(e).code}: ${toOioError(e).message}\n`);
      return 1;
    });
    if (run.cancelled) return; // the prompt came back when Ctrl-C was pressed
    this.running = undefined;
    this.lastStatus = status;
    this.afterCommand();
  }

  private cancel(): void {
    const run = this.running;
    if (!run) return;
    run.cancelled = true;
    run.abort.abort();
    this.running = undefined;
    this.lastStatus = 130;
    this.write('^C\n');
    this.afterCommand();
  }

  private afterCommand(): void {
    if (this.closed) return;
    if (!this.opts.pty) { void this.drainQueue(); return; }
    if (this.lastChar !== '\n') this.write('\n');
    this.redraw();
    this.processKeys();
  }

  // --- no pty: a stream of lines ---
  private onLines(text: string): void {
    const parts = (this.partialLine + text).split(/\r?\n/);
    this.partialLine = parts.pop() ?? '';
    this.queue.push(...parts);
    if (!this.running) void this.drainQueue();
  }

  private inputEnded = false;

  private onEndOfInput(): void {
    if (this.partialLine) { this.queue.push(this.partialLine); this.partialLine = ''; }
    this.inputEnded = true;
    if (!this.running) void this.drainQueue();
  }

  private draining = false;

  private async drainQueue(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length && !this.closed) {
        const line = this.queue.shift()!;
        const run: Running = { abort: new AbortController(), cancelled: false };
        this.running = run;
        let words: string[] = [];
        try { words = splitCommandLine(line); }
        catch (e) { this.opts.channel.stderr.write(`console: ${toOioError(e).message}\n`); this.lastStatus = 2; this.running = undefined; continue; }
        if (isExit(words)) { this.running = undefined; this.close(this.lastStatus); return; }
        this.lastStatus = await runConsoleCommand(words, {
          out: (s) => { if (!this.closed) this.opts.channel.write(s); },
          err: (s) => { if (!this.closed) this.opts.channel.stderr.write(s); },
        }, this.opts.env, run.abort.signal).catch(() => 1);
        this.running = undefined;
      }
      if (this.inputEnded) this.close(this.lastStatus);
    } finally {
      this.draining = false;
    }
  }

  private close(status: number): void {
    if (this.closed) return;
    this.running?.abort.abort();
    this.closed = true;
    const ch = this.opts.channel;
    ch.exit(status);
    ch.end();
  }
}
