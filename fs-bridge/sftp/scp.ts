/**
 * @module fs-bridge/sftp/scp
 * The legacy scp protocol (`scp -O`: the client runs `scp -t PATH` to upload, `scp -f PATH`
 * to download on the server) on the bridge, spoken on the exec channel itself: no program
 * runs. Messages: `C<mode> <size> <name>` a file and its bytes, `D<mode> 0 <name>` ... `E`
 * a folder (-r), `T<mtime> 0 <atime> 0` its times (-p); each answered by one byte, 0 (ok),
 * 1 + message (error, go on) or 2 + message (fatal). File bytes stream between the channel
 * and the bridge chunk by chunk (spool on write, ranged reads on read): no file in memory.
 */
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { InvalidArgumentError, OioError, toOioError, type Logger } from '../../appliance/common';
import { BridgePaths, normalizePath, type BridgeFs, type Ino } from '../core';
import { sftpStatusOf } from './status';

/** The exec channel (ssh2's server channel): reads the client's bytes, writes ours. */
export interface ScpChannel extends Readable {
  write(chunk: Buffer | string, cb?: (err?: Error | null) => void): boolean;
  stderr: Writable;
}

export interface ScpOptions {
  bridge: BridgeFs;
  log?: Logger;
  /** bytes per bridge read when sending */
  chunkBytes?: number;
}

interface ScpArgs { sink: boolean; recursive: boolean; preserve: boolean; targetIsDir: boolean; paths: string[] }

/** Parses the words after `scp` (flags t f r p d v, `--`); throws BAD_REQUEST otherwise. */
export function parseScpArgs(args: string[]): ScpArgs {
  const out: ScpArgs = { sink: false, recursive: false, preserve: false, targetIsDir: false, paths: [] };
  let source = false;
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') { i++; break; }
    if (!a.startsWith('-') || a === '-') break;
    for (const c of a.slice(1)) {
      if (c === 't') out.sink = true;
      else if (c === 'f') source = true;
      else if (c === 'r') out.recursive = true;
      else if (c === 'p') out.preserve = true;
      else if (c === 'd') out.targetIsDir = true;
      else if (c === 'v' || c === 'q') continue;
      else throw new InvalidArgumentError('BAD_REQUEST', `scp: option -${c} is not supported here`);
    }
  }
  out.paths = args.slice(i);
  if (out.sink === source) throw new InvalidArgumentError('BAD_REQUEST', 'scp: exactly one of -t (upload) or -f (download); run scp from your machine');
  if (out.paths.length === 0 || (out.sink && out.paths.length !== 1)) throw new InvalidArgumentError('BAD_REQUEST', 'scp: one target path with -t, one or more paths with -f');
  return out;
}

/** Byte-level reads of a channel with backpressure (paused while a megabyte waits). */
class ChannelReader {
  private readonly bufs: Buffer[] = [];
  private size = 0;
  private ended = false;
  private wake?: () => void;

  constructor(private readonly ch: Readable) {
    ch.on('data', (d: Buffer) => {
      this.bufs.push(d);
      this.size += d.length;
      if (this.size > 1024 * 1024) ch.pause();
      this.notify();
    });
    ch.on('end', () => { this.ended = true; this.notify(); });
    ch.on('close', () => { this.ended = true; this.notify(); });
  }

  private notify(): void { const w = this.wake; this.wake = undefined; w?.(); }

  private async fill(): Promise<boolean> {
    while (this.size === 0) {
      if (this.ended) return false;
      this.ch.resume();
      await new Promise<void>((r) => { this.wake = r; });
    }
    return true;
  }

  /** Up to `max` bytes (at least one), undefined at the end of the stream. */
  async chunk(max: number): Promise<Buffer | undefined> {
    if (!(await this.fill())) return undefined;
    const first = this.bufs[0]!;
    let out: Buffer;
    if (first.length <= max) { out = first; this.bufs.shift(); } else { out = first.subarray(0, max); this.bufs[0] = first.subarray(max); }
    this.size -= out.length;
    if (this.size <= 1024 * 1024) this.ch.resume();
    return out;
  }

  async byte(): Promise<number | undefined> {
    const b = await this.chunk(1);
    return b?.[0];
  }

  /** One line without its newline (undefined at the end of the stream). */
  async line(maxBytes = 64 * 1024): Promise<string | undefined> {
    const parts: Buffer[] = [];
    let n = 0;
    for (;;) {
      if (!(await this.fill())) return n === 0 ? undefined : Buffer.concat(parts).toString('utf8');
      const first = this.bufs[0]!;
      const nl = first.indexOf(0x0a);
      const take = nl >= 0 ? nl + 1 : first.length;
      const part = await this.chunk(take);
      if (!part) return undefined;
      if (nl >= 0) { parts.push(part.subarray(0, part.length - 1)); return Buffer.concat(parts).toString('utf8'); }
      parts.push(part);
      n += part.length;
      if (n > maxBytes) throw new InvalidArgumentError('BAD_REQUEST', 'scp: protocol line too long');
    }
  }
}

/** A protocol message of the source: fatal, ends the session. */
class ScpProtocolError extends Error {}

/** Runs `scp -t`/`scp -f` on the channel; resolves with the exit status (0 ok, 1 errors). */
export async function runScp(ch: ScpChannel, args: string[], opts: ScpOptions): Promise<number> {
  let parsed: ScpArgs;
  try { parsed = parseScpArgs(args); } catch (e) {
    ch.stderr.write(`${toOioError(e).message}\n`);
    return 1;
  }
  const s = new ScpSession(ch, opts, parsed);
  try {
    return await (parsed.sink ? s.sink() : s.source());
  } catch (e) {
    const msg = e instanceof ScpProtocolError ? e.message : `scp: ${sftpStatusOf(e).message}`;
    opts.log?.debug('scp failed', { err: msg });
    await s.send(`\x02${msg}\n`).catch(() => undefined);
    return 1;
  }
}

class ScpSession {
  private readonly r: ChannelReader;
  private readonly paths: BridgePaths;
  private readonly fs: BridgeFs;
  private errors = 0;
  private closed = false;

  constructor(private readonly ch: ScpChannel, private readonly opts: ScpOptions, private readonly a: ScpArgs) {
    this.r = new ChannelReader(ch);
    ch.once('close', () => { this.closed = true; });
    this.fs = opts.bridge;
    this.paths = new BridgePaths(opts.bridge);
  }

  /** Writes with backpressure (waits for the channel to take it); rejects once it closed. */
  send(data: Buffer | string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) { reject(new ScpProtocolError('scp: connection closed')); return; }
      if (this.ch.write(data)) { resolve(); return; }
      const done = (err?: Error) => {
        this.ch.off('drain', onDrain);
        this.ch.off('close', onClose);
        if (err) reject(err); else resolve();
      };
      const onDrain = () => done();
      const onClose = () => done(new ScpProtocolError('scp: connection closed'));
      this.ch.on('drain', onDrain);
      this.ch.on('close', onClose);
    });
  }

  private async error(where: string, e: unknown): Promise<void> {
    this.errors++;
    const msg = `scp: ${where}: ${sftpStatusOf(e).message}`;
    this.opts.log?.debug('scp error', { msg });
    await this.send(`\x01${msg}\n`);
  }

  // ---- upload: scp -t TARGET ----------------------------------------------------------------

  async sink(): Promise<number> {
    const target = normalizePath(this.a.paths[0]!);
    const t = await this.paths.find(target);
    const targetIsDir = t?.type === 'dir';
    if (this.a.targetIsDir && !targetIsDir) throw new ScpProtocolError(`scp: ${target}: Not a directory`);
    const stack: string[] = [];
    let times: { mtimeMs: number; atimeMs: number } | undefined;
    const destOf = (name: string): string => {
      if (name === '' || name === '.' || name === '..' || name.includes('/')) throw new ScpProtocolError(`scp: unexpected file name "${name}"`);
      if (stack.length > 0) return normalizePath(path.posix.join(stack[stack.length - 1]!, name));
      return targetIsDir ? normalizePath(path.posix.join(target, name)) : target;
    };
    await this.send('\0');
    for (;;) {
      const line = await this.r.line();
      if (line === undefined || line === '') break;
      const kind = line[0];
      if (kind === '\x01' || kind === '\x02') {
        this.errors++;
        this.opts.log?.debug('scp source reported', { msg: line.slice(1) });
        if (kind === '\x02') break;
        continue;
      }
      if (kind === 'E') {
        if (stack.length === 0) throw new ScpProtocolError('scp: unexpected E');
        const dir = stack.pop()!;
        if (times) { await this.applyTimes(dir, times); times = undefined; }
        await this.send('\0');
        continue;
      }
      if (kind === 'T') {
        const m = /^T(\d+) (\d+) (\d+) (\d+)$/.exec(line);
        if (!m) throw new ScpProtocolError('scp: bad T message');
        times = { mtimeMs: Number(m[1]) * 1000 + Math.floor(Number(m[2]) / 1000), atimeMs: Number(m[3]) * 1000 + Math.floor(Number(m[4]) / 1000) };
        await this.send('\0');
        continue;
      }
      const m = /^([CD])([0-7]{4}) (\d+) (.+)$/.exec(line);
      if (!m) throw new ScpProtocolError(`scp: protocol error: ${JSON.stringify(line.slice(0, 40))}`);
      const mode = parseInt(m[2]!, 8) & 0o7777;
      const size = Number(m[3]);
      const dest = destOf(m[4]!);
      if (kind === 'D') {
        if (!this.a.recursive) throw new ScpProtocolError('scp: received a directory without -r');
        try {
          const have = await this.paths.find(dest);
          if (!have) {
            const { parent, name } = await this.paths.parentOf(dest);
            await this.fs.mkdir(parent, name, mode || 0o755);
          } else if (have.type !== 'dir') throw new InvalidArgumentError('BAD_REQUEST', 'not a directory', { details: { reason: 'not_dir' } });
        } catch (e) {
          // scp's own sink gives up on a folder it cannot make.
          throw new ScpProtocolError(`scp: ${dest}: ${sftpStatusOf(e).message}`);
        }
        stack.push(dest);
        await this.send('\0');
        times = undefined;
        continue;
      }
      await this.send('\0');
      await this.receiveFile(dest, mode, size, this.a.preserve ? times : undefined);
      times = undefined;
    }
    return this.errors ? 1 : 0;
  }

  private async applyTimes(abs: string, t: { mtimeMs: number; atimeMs: number }): Promise<void> {
    if (!this.a.preserve) return;
    const a = await this.paths.find(abs).catch(() => undefined);
    if (a) await this.fs.setattr(a.ino, t).catch(() => undefined);
  }

  /** Streams `size` bytes of the channel into `dest`; the reply follows the source's ok byte. */
  private async receiveFile(dest: string, mode: number, size: number, times?: { mtimeMs: number; atimeMs: number }): Promise<void> {
    let ino: Ino | undefined;
    let failure: unknown;
    try {
      let a = await this.paths.find(dest);
      if (a?.type === 'dir') throw new InvalidArgumentError('BAD_REQUEST', 'is a directory', { details: { reason: 'is_dir' } });
      if (!a) {
        const { parent, name } = await this.paths.parentOf(dest);
        a = await this.fs.create(parent, name, mode || 0o644);
      }
      await this.fs.open(a.ino);
      ino = a.ino;
      if (a.size > 0) await this.fs.setattr(ino, { size: 0 });
    } catch (e) { failure = e; }
    try {
      let off = 0;
      while (off < size) {
        const buf = await this.r.chunk(size - off);
        if (!buf) throw new ScpProtocolError('scp: connection closed during a file');
        if (ino !== undefined && failure === undefined) {
          try { await this.fs.write(ino, off, buf); } catch (e) { failure = e; }
        }
        off += buf.length;
      }
      const ack = await this.r.byte();
      if (ack === undefined) throw new ScpProtocolError('scp: connection closed during a file');
    } catch (e) {
      // Cut off: what arrived is committed (as scp's own sink leaves a partial file).
      if (ino !== undefined) await this.fs.release(ino).catch(() => undefined);
      throw e;
    }
    if (ino !== undefined) {
      try {
        if (failure === undefined) await this.fs.setattr(ino, { mode, ...(times ?? {}) });
        // The last release commits the spooled bytes as a new object version.
        await this.fs.release(ino);
      } catch (e) { failure ??= e; }
    }
    if (failure !== undefined) await this.error(dest, failure);
    else await this.send('\0');
  }

  // ---- download: scp -f PATH... -------------------------------------------------------------

  /** The sink's answer: true ok, false error reported (go on); throws on fatal. */
  private async response(): Promise<boolean> {
    const b = await this.r.byte();
    if (b === undefined) throw new ScpProtocolError('scp: connection closed');
    if (b === 0) return true;
    const msg = (await this.r.line()) ?? '';
    this.opts.log?.debug('scp sink reported', { msg });
    this.errors++;
    if (b === 1) return false;
    throw new ScpProtocolError(msg);
  }

  async source(): Promise<number> {
    if (!(await this.response())) return 1;
    for (const p of this.a.paths) {
      const abs = normalizePath(p);
      let a;
      try { a = (await this.paths.follow(abs)).attr; } catch (e) { await this.error(abs, e); continue; }
      if (a.type === 'dir') {
        if (!this.a.recursive) { await this.error(abs, new InvalidArgumentError('BAD_REQUEST', 'not a regular file', { details: { reason: 'is_dir' } })); continue; }
        await this.sendDir(abs, a.ino);
      } else {
        await this.sendFile(abs, a.ino);
      }
    }
    return this.errors ? 1 : 0;
  }

  private async sendTimes(ino: Ino): Promise<boolean> {
    if (!this.a.preserve) return true;
    const a = await this.fs.getattr(ino);
    await this.send(`T${Math.floor(a.mtimeMs / 1000)} 0 ${Math.floor(a.atimeMs / 1000)} 0\n`);
    return this.response();
  }

  private async sendDir(abs: string, ino: Ino): Promise<void> {
    const a = await this.fs.getattr(ino);
    if (!(await this.sendTimes(ino))) return;
    await this.send(`D${(a.mode & 0o7777).toString(8).padStart(4, '0')} 0 ${abs === '/' ? 'root' : path.posix.basename(abs)}\n`);
    if (!(await this.response())) return;
    let cookie = 0;
    for (;;) {
      const page = await this.fs.readdir(ino, cookie, 500, true);
      for (const e of page.entries) {
        const child = normalizePath(path.posix.join(abs, e.name));
        if (e.type === 'dir') await this.sendDir(child, e.ino);
        else if (e.type === 'file') await this.sendFile(child, e.ino);
      }
      if (page.eof || page.nextCookie === undefined) break;
      cookie = page.nextCookie;
    }
    await this.send('E\n');
    await this.response();
  }

  private async sendFile(abs: string, ino: Ino): Promise<void> {
    try { await this.fs.open(ino); } catch (e) { await this.error(abs, e); return; }
    try {
      const a = await this.fs.getattr(ino);
      if (!(await this.sendTimes(ino))) return;
      const size = a.size;
      await this.send(`C${(a.mode & 0o7777).toString(8).padStart(4, '0')} ${size} ${path.posix.basename(abs)}\n`);
      if (!(await this.response())) return;
      const chunk = this.opts.chunkBytes ?? 1024 * 1024;
      let off = 0;
      let failure: unknown;
      while (off < size) {
        let buf: Buffer;
        try {
          if (failure !== undefined) throw failure;
          buf = await this.fs.read(ino, off, Math.min(chunk, size - off));
          if (buf.length === 0) throw new OioError('CONTENT_NOT_FOUND', 'file shrank while being sent');
        } catch (e) {
          // The announced size must still be sent: pad, then report the error instead of ok.
          failure ??= e;
          buf = Buffer.alloc(Math.min(chunk, size - off));
        }
        await this.send(buf);
        off += buf.length;
      }
      if (failure !== undefined) await this.error(abs, failure);
      else await this.send('\0');
      await this.response();
    } finally {
      await this.fs.release(ino).catch(() => undefined);
    }
  }
}
