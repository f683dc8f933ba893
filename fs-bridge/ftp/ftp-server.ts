/**
 * @module fs-bridge/ftp/ftp-server
 * The FTP front end: ftp-srv with BridgeFileSystem sessions. A user logs in with an access
 * key and secret (or a name and password) from `users`; its root is its account (one shared
 * BridgeFs per account). Passive mode on a configurable port range; optional explicit TLS
 * (AUTH TLS) with a self-signed certificate made on first start by the `openssl` CLI (async).
 * Error replies follow the FTP column of the error table (replies.ts).
 */
import net from 'node:net';
import tlsModule from 'node:tls';
import path from 'node:path';
import { ensureCertificate, type Logger } from '../../appliance/common';
import type { ObjectStorage } from '../../appliance/client/object-storage';
import { createBridgeFs, type LocalBridgeFs } from '../core';
import { BridgeFileSystem } from './bridge-file-system';
import { ftpReplyOf } from './replies';

/** A user: the account its root shows, and its secret. */
export interface FtpUser {
  password: string;
  account: string;
}

export interface FtpServerOptions {
  /** client library (its account is replaced by each user's) */
  storage: ObjectStorage;
  host: string;
  port: number;
  /** passive data ports, inclusive */
  pasvMin: number;
  pasvMax: number;
  /** address announced for passive connections (default: host) */
  pasvAddress?: string;
  /** user name (access key) -> secret and account */
  users: Record<string, FtpUser> | ((user: string) => Promise<FtpUser | undefined>);
  /** explicit TLS: certificate folder (made on first start) */
  tlsDir?: string;
  /** inode bases and spool */
  dataDir: string;
  attrTtlMs?: number;
  log?: Logger;
}

export interface FtpServerHandle {
  readonly addr: string;
  close(): Promise<void>;
}

interface FtpSrvLike {
  on(ev: 'login', fn: (data: { connection: ConnectionLike; username: string; password: string }, resolve: (r: { fs: unknown; cwd?: string }) => void, reject: (e: Error) => void) => void): void;
  on(ev: 'client-error', fn: (data: { error: unknown }) => void): void;
  on(ev: 'connect', fn: (data: { connection: { commandSocket: import('node:net').Socket } }) => void): void;
  listen(): Promise<unknown>;
  close(): Promise<unknown>;
}
interface ConnectionLike { reply(options: unknown, ...letters: unknown[]): Promise<unknown> }

/** ftp-srv wants a bunyan-like logger; ours, at debug. */
function ftpLogger(log?: Logger): unknown {
  const make = (fields: Record<string, unknown>): unknown => {
    const l = log?.child(fields);
    const at = (lvl: 'debug' | 'warn') => (...a: unknown[]) => l?.[lvl](a.map((x) => (x instanceof Error ? x.message : typeof x === 'string' ? x : JSON.stringify(x))).join(' '));
    return { trace: at('debug'), debug: at('debug'), info: at('debug'), warn: at('warn'), error: at('debug'), fatal: at('warn'), child: (f: Record<string, unknown>) => make({ ...fields, ...f }) };
  };
  return make({ component: 'ftp-srv' });
}

let passivePatched = false;

interface PassiveThis {
  connection: { secure?: boolean; commandSocket: import('node:net').Socket; reply(code: number, msg?: string): Promise<unknown>; close(): unknown };
  server: { options: { tls: import('node:tls').SecureContextOptions }; url: { hostname: string }; getNextPasvPort(): Promise<number>; emit(ev: string, data: unknown): void } | undefined;
  dataServer: import('node:net').Server | null;
  dataSocket: (import('node:net').Socket & { connected?: boolean }) | null;
  log: { trace(...a: unknown[]): void; debug(...a: unknown[]): void; error(...a: unknown[]): void };
  closeServer(): void;
  end(): void;
}

const bareIp = (a: string | undefined) => (a ?? '').replace(/^::ffff:/, '');

/**
 * TLS 1.2 on data connections: a TLS 1.3 server sends its session tickets after the
 * handshake, an uploading client (lftp) never reads them, and its close then resets the
 * connection (RST), which drops the end of the upload still unread on this side.
 */
function dataSecureContext(tls: import('node:tls').SecureContextOptions): import('node:tls').SecureContext {
  return tlsModule.createSecureContext({ ...tls, maxVersion: 'TLSv1.2' });
}

interface ActiveThis {
  connection: { secure?: boolean; commandSocket: import('node:net').Socket };
  server: { options: { tls: import('node:tls').SecureContextOptions }; emit(ev: string, data: unknown): void } | undefined;
  dataSocket: (import('node:net').Socket & { connected?: boolean }) | null;
}

/**
 * Active mode (PORT/EPRT) of a secure session: ftp-srv 4.6.3 wraps the connection it makes in
 * TLS with the command channel's options, so TLS 1.3, and lftp uploads were cut short as on
 * passive connections. The same connection, with the data connections' TLS 1.2.
 */
function patchActiveTls(): void {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const Active = require(require.resolve('ftp-srv/src/connector/active')) as { prototype: { setupConnection(this: ActiveThis, host: string, port: number, family?: number): Promise<unknown> }; patched?: boolean };
  if (Active.patched) return;
  Active.patched = true;
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { SocketError } = require(require.resolve('ftp-srv/src/errors')) as { SocketError: new (msg: string, code: number) => Error };
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const Bluebird = require(require.resolve('bluebird', { paths: [require.resolve('ftp-srv')] })) as { resolve<T>(v: T | Promise<T>): Promise<T> };
  const setup = Active.prototype.setupConnection;
  Active.prototype.setupConnection = function (this: ActiveThis, host: string, port: number, family = 4) {
    if (!this.connection.secure) return setup.call(this, host, port, family);
    return Bluebird.resolve((async () => {
      this.dataSocket?.destroy();
      if (bareIp(this.connection.commandSocket.remoteAddress) !== bareIp(host)) throw new SocketError('The given address is not yours', 500);
      const onError = (err: Error) => this.server?.emit('client-error', { connection: this.connection, context: 'dataSocket', error: err });
      const raw = new net.Socket() as import('node:net').Socket & { connected?: boolean };
      raw.on('error', onError);
      this.dataSocket = raw;
      raw.connect({ host, port, family }, () => {
        raw.pause();
        const socket = new tlsModule.TLSSocket(raw, { isServer: true, secureContext: dataSecureContext(this.server!.options.tls) }) as import('node:net').Socket & { connected?: boolean };
        socket.on('error', onError);
        socket.connected = true;
        this.dataSocket = socket;
      });
    })());
  };
}

/**
 * ftp-srv 4.6.3 serves passive TLS data connections from a tls.Server whose handler runs
 * after the handshake, and sends its 150 reply only then; it also pauses them before the
 * handshake. lftp handshakes on a data connection only after that 150 (curl at once), so
 * every lftp transfer under PROT P waited until its timeout. Secure sessions get a plain
 * server here whose sockets are wrapped in TLS at once and count as connected: the 150 goes
 * out, writes wait inside the TLS socket until its handshake is done, and reads start then.
 */
function patchPassiveTls(): void {
  if (passivePatched) return;
  passivePatched = true;
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const Passive = require(require.resolve('ftp-srv/src/connector/passive')) as { prototype: { setupServer(this: PassiveThis): Promise<unknown> } };
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const Bluebird = require(require.resolve('bluebird', { paths: [require.resolve('ftp-srv')] })) as { resolve<T>(v: T | Promise<T>): Promise<T> };
  const setup = Passive.prototype.setupServer;
  Passive.prototype.setupServer = function (this: PassiveThis) {
    if (!this.connection.secure) return setup.call(this);
    this.closeServer();
    const server = this.server!;
    return Bluebird.resolve((async () => {
      const port = await server.getNextPasvPort();
      this.dataSocket = null;
      const secureContext = dataSecureContext(server.options.tls);
      let idle: NodeJS.Timeout | undefined;
      const dataServer = net.createServer((raw) => {
        if (bareIp(this.connection.commandSocket.remoteAddress) !== bareIp(raw.remoteAddress)) {
          this.log.error({ pasv_connection: raw.remoteAddress }, 'Connecting addresses do not match');
          raw.destroy();
          void this.connection.reply(550, 'Remote addresses do not match').then(() => this.connection.close());
          return;
        }
        clearTimeout(idle);
        const socket = new tlsModule.TLSSocket(raw, { isServer: true, secureContext }) as import('node:net').Socket & { connected?: boolean };
        socket.on('error', (err) => this.server?.emit('client-error', { connection: this.connection, context: 'dataSocket', error: err }));
        socket.once('close', () => this.closeServer());
        socket.connected = true;
        this.dataSocket = socket;
      });
      dataServer.maxConnections = 1;
      dataServer.on('error', (err) => this.server?.emit('client-error', { connection: this.connection, context: 'dataServer', error: err }));
      dataServer.once('close', () => this.end());
      this.dataServer = dataServer;
      await new Promise<void>((resolve, reject) => {
        dataServer.once('error', reject);
        dataServer.listen(port, server.url.hostname, () => {
          dataServer.off('error', reject);
          idle = setTimeout(() => this.closeServer(), 30_000);
          this.log.debug({ port }, 'Passive TLS connection listening');
          resolve();
        });
      });
      return dataServer;
    })());
  };
}

interface AuthThis {
  server: { options: { tls: unknown } };
  secure?: boolean;
  commandSocket: import('node:net').Socket;
  reply(code: number, msg?: string): Promise<unknown>;
}

/**
 * ftp-srv 4.6.3 answers AUTH TLS with 234 and wraps the command socket only when that reply
 * has been written: a client's ClientHello arriving first is read as a command (curl then
 * fails with "wrong version number", or its login gets a 502, on a busy server). The socket
 * is paused before the reply here, and the hello it may have buffered goes to TLS only.
 */
function patchAuthTls(): void {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const auth = require(require.resolve('ftp-srv/src/commands/registration/auth')) as { handler: (this: AuthThis, a: { command: { arg: string } }) => Promise<unknown>; patched?: boolean };
  if (auth.patched) return;
  auth.patched = true;
  auth.handler = function (this: AuthThis, { command }) {
    if (String(command.arg ?? '').trim().toUpperCase() !== 'TLS') return this.reply(504);
    if (!this.server.options.tls) return this.reply(502);
    if (this.secure) return this.reply(202);
    const plain = this.commandSocket;
    plain.pause();
    return this.reply(234).then(() => {
      // A ClientHello that came before the wrap waits in the plain socket's buffer: the TLS
      // socket takes it, and the plain socket also emits it as 'data', which ftp-srv would
      // parse as a command (a 502 that curl reads as the answer to its login). ftp-srv's data
      // handlers now hear only the TLS socket; its other handlers still hear the plain one.
      const listeners = plain.listeners('data') as Array<(...a: unknown[]) => void>;
      plain.removeAllListeners('data');
      const secureSocket = new tlsModule.TLSSocket(plain, { isServer: true, secureContext: tlsModule.createSecureContext(this.server.options.tls as import('node:tls').SecureContextOptions) });
      secureSocket.on('data', (...args: unknown[]) => { for (const l of listeners) l.apply(plain, args); });
      for (const event of ['timeout', 'end', 'close', 'drain', 'error']) {
        secureSocket.on(event, (...args: unknown[]) => plain.emit(event, ...args));
      }
      this.commandSocket = secureSocket as unknown as import('node:net').Socket;
      this.secure = true;
      plain.resume();
    });
  };
}

interface TimeThis {
  fs?: { utimes?(p: string, mtimeMs: number): Promise<void> };
  reply(code: number, ...msg: string[]): Promise<unknown>;
}

/** `YYYYMMDDHHMMSS[.sss]` (UTC) in ms, or undefined. */
export function parseFtpTime(s: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,3}))?$/.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const t = Date.UTC(y, mo - 1, d, h, mi, se, Number((m[7] ?? '0').padEnd(3, '0')));
  const back = new Date(t);
  return back.getUTCFullYear() === y && back.getUTCMonth() === mo - 1 && back.getUTCDate() === d && h < 24 && mi < 60 && se < 61 ? t : undefined;
}

/**
 * Modification times, which ftp-srv 4.6.3 cannot set: MFMT (draft-somers-ftp-mfxx, in FEAT,
 * which lftp's mirror uses to keep the source's times) and SITE UTIME (the two forms other
 * clients send). Without them every upload carried its upload time, so a second
 * `mirror -R` sent every file again.
 */
function registerTimeCommands(): void {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const registry = require(require.resolve('ftp-srv/src/commands/registry')) as Record<string, unknown>;
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const site = require(require.resolve('ftp-srv/src/commands/registration/site/registry')) as Record<string, unknown>;
  if (registry.MFMT) return;
  const set = async (self: TimeThis, time: string, file: string, ok: () => Promise<unknown>): Promise<unknown> => {
    const ms = parseFtpTime(time);
    if (ms === undefined || !file) return self.reply(501, 'Syntax: MFMT YYYYMMDDHHMMSS path');
    if (!self.fs?.utimes) return self.reply(502, 'Not supported by file system');
    try {
      await self.fs.utimes(file, ms);
    } catch (e) {
      return self.reply(550, (e as Error).message);
    }
    return ok();
  };
  registry.MFMT = {
    directive: 'MFMT',
    handler(this: TimeThis, { command }: { command: { arg: string | null } }) {
      const arg = command.arg ?? '';
      const i = arg.indexOf(' ');
      const time = i < 0 ? arg : arg.slice(0, i);
      const file = i < 0 ? '' : arg.slice(i + 1);
      return set(this, time, file, () => this.reply(213, `Modify=${time}; ${file}`));
    },
    syntax: '{{cmd}} <YYYYMMDDHHMMSS> <path>',
    description: 'Sets the last-modified time of a file',
    flags: { feat: 'MFMT' },
  };
  site.UTIME = {
    directive: 'UTIME',
    handler(this: TimeThis, { command }: { command: { arg: string | null } }) {
      const parts = (command.arg ?? '').split(' ');
      // SITE UTIME <time> <path> | SITE UTIME <path> <atime> <mtime> <ctime> UTC
      if (parts.length >= 5 && parts[parts.length - 1] === 'UTC') {
        const file = parts.slice(0, parts.length - 4).join(' ');
        return set(this, parts[parts.length - 3]!, file, () => this.reply(200, 'UTIME OK'));
      }
      return set(this, parts[0] ?? '', parts.slice(1).join(' '), () => this.reply(200, 'UTIME OK'));
    },
    syntax: '{{cmd}} <YYYYMMDDHHMMSS> <path>',
    description: 'Sets the last-modified time of a file',
  };
}

/** Starts the FTP server. */
export async function startFtpServer(opts: FtpServerOptions): Promise<FtpServerHandle> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { FtpSrv } = require('ftp-srv') as { FtpSrv: new (o: Record<string, unknown>) => FtpSrvLike };
  patchPassiveTls();
  patchActiveTls();
  patchAuthTls();
  registerTimeCommands();
  // key.pem/cert.pem in tlsDir, self-signed and made on first start
  const tls = opts.tlsDir ? await ensureCertificate({ certFile: path.join(opts.tlsDir, 'cert.pem'), keyFile: path.join(opts.tlsDir, 'key.pem') }, opts.host, 'FTP') : false;
  const server = new FtpSrv({
    url: `ftp://${opts.host}:${opts.port}`,
    // A function: ftp-srv otherwise announces the client's own address to local clients.
    pasv_url: () => opts.pasvAddress ?? opts.host,
    pasv_min: opts.pasvMin,
    pasv_max: opts.pasvMax,
    anonymous: false,
    tls,
    greeting: 'oio FTP bridge',
    log: ftpLogger(opts.log),
    timeout: 10 * 60_000,
  });
  const bridges = new Map<string, LocalBridgeFs>();
  const bridgeOf = (account: string): LocalBridgeFs => {
    let b = bridges.get(account);
    if (!b) {
      const dir = path.join(opts.dataDir, encodeURIComponent(account));
      b = createBridgeFs({ storage: opts.storage.forAccount(account), stateDir: dir, spoolDir: path.join(dir, 'spool'), attrTtlMs: opts.attrTtlMs ?? 1000, log: opts.log });
      bridges.set(account, b);
    }
    return b;
  };
  const lookupUser = typeof opts.users === 'function' ? opts.users : async (u: string) => (opts.users as Record<string, FtpUser>)[u];

  // Replies go out at once: with Nagle's algorithm, a reply written while the one before is
  // not yet acknowledged waits for the client's delayed ACK, 40 ms. lftp's mirror paid that
  // twice per file (150 then 226 of every STOR and LIST): 2,000 files took 103 s.
  server.on('connect', ({ connection }) => { connection.commandSocket.setNoDelay(true); });
  server.on('login', ({ connection, username, password }, resolve, reject) => {
    lookupUser(username).then((user) => {
      if (!user || user.password !== password) { reject(new Error('bad user name or password')); return; }
      const fsys = new BridgeFileSystem(connection, bridgeOf(user.account));
      // ftp-srv answers 550 to every file-system error: use the error table instead.
      const reply = connection.reply.bind(connection);
      connection.reply = (options: unknown, ...letters: unknown[]) => {
        if ((options === 550 || options === 551) && fsys.lastError !== undefined) {
          const r = ftpReplyOf(fsys.lastError);
          fsys.lastError = undefined;
          return reply(r.code, r.message);
        }
        fsys.lastError = undefined;
        return reply(options, ...letters);
      };
      opts.log?.info('ftp login', { user: username, account: user.account });
      resolve({ fs: fsys, cwd: '/' });
    }, (e: unknown) => reject(e as Error));
  });
  server.on('client-error', ({ error }) => opts.log?.debug('ftp client error', { err: String((error as Error)?.message ?? error) }));
  await server.listen();
  return {
    addr: `${opts.host}:${opts.port}`,
    async close() {
      await server.close().catch(() => undefined);
      for (const b of bridges.values()) await b.close().catch((e: unknown) => opts.log?.error('ftp bridge close failed', { err: e as Error }));
      bridges.clear();
    },
  };
}
