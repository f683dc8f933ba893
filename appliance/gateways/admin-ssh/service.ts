/**
 * @module gateways/admin-ssh/service
 * The SSH admin console of a node (`ssh2`): the only shell is the `oio` command set.
 * - host key made on first start, kept in the data folder (`host-key.ts`);
 * - public-key login against `admin_keys` (managed with `oio admin key ...`), password login
 *   only when `admin_ssh.password_auth` is on (scrypt hashes in `admin_passwords`), one login
 *   name (`admin_ssh.user`); failures logged and limited per source address;
 * - exec requests run one command and return its output and exit status; a shell request
 *   opens the interactive console (`shell-session.ts`);
 * - the sftp subsystem and legacy scp (`scp -t|-f PATH` exec requests) go to the file front
 *   end the runtime gives (`files`, the bridge layer over the console's account); without
 *   one they are refused. Other subsystems, port forwarding and agent forwarding are refused.
 */
import { timingSafeEqual } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import path from 'node:path';
import { ObjectStorage } from '../../client/object-storage';
import { toOioError, type Config, type Logger } from '../../common';
import { AdminStore, GLOBAL_BOOLEANS, type CliIO } from '../../cli';
import { splitCommandLine } from './command-line';
import { completionCommands, runConsoleCommand, type ConsoleEnv } from './console-commands';
import type { CompletionSource } from './completion';
import { loadOrCreateHostKey } from './host-key';
import { RateLimiter } from './rate-limiter';
import { ShellSession } from './shell-session';
import { parseKey, ssh2, type AuthContext, type Connection, type Server, type ServerChannel, type Session } from './ssh2';

/** What the host gives a service (structurally the runtime's ServiceContext). */
export interface AdminSshContext {
  config: Config;
  log: Logger;
  signal: AbortSignal;
  /** the console's data folder (DATA/admin-ssh): host key, admin_keys, admin_passwords */
  dataDir: string;
}

/**
 * File transfer onto the grid, composed by the runtime (gateways do not import fs-bridge):
 * it gets the raw channels and never the host's files.
 */
export interface AdminFileTransfer {
  /** serves one SFTP channel (ssh2's server SFTP stream) until it ends */
  sftp(stream: EventEmitter, who: { remote: string; user: string }): void;
  /** legacy scp on an exec channel (`args`: the words after scp); resolves with the exit status */
  scp(channel: ServerChannel, args: string[], who: { remote: string; user: string }): Promise<number>;
  /** commits pending files (called at stop) */
  close(): Promise<void>;
}

/** Where the console listens (`ip`, `admin_ssh.port`; port 0 picks a free one). */
export interface AdminSshOptions {
  host: string;
  port: number;
  /** makes the file front end at start (its data folder: DATA/admin-ssh/files); absent: no sftp/scp */
  files?: (ctx: AdminSshContext) => AdminFileTransfer;
}

/** The console's SSH server, one per node, started by the host after the proxy. */
export class AdminSshService {
  readonly type = 'admin-ssh';
  private server: Server | undefined;
  private actualAddr = '';
  private log!: Logger;
  private store!: AdminStore;
  private limiter!: RateLimiter;
  private config!: Config;
  private readonly connections = new Set<Connection>();
  private files: AdminFileTransfer | undefined;

  constructor(private readonly opts: AdminSshOptions) {}

  get addr(): string { return this.actualAddr || `${this.opts.host}:${this.opts.port}`; }

  async start(ctx: AdminSshContext): Promise<void> {
    this.log = ctx.log;
    this.config = ctx.config;
    this.store = new AdminStore(ctx.dataDir);
    this.limiter = new RateLimiter(ctx.config['admin_ssh.max_auth_failures'], ctx.config['admin_ssh.auth_window']);
    const hostKey = await loadOrCreateHostKey(ctx.dataDir);
    if (hostKey.created) this.log.info('ssh host key created', { fingerprint: hostKey.fingerprint });
    const keys = await this.store.listKeys();
    if (keys.length === 0) this.log.warn('no admin key authorized: add one with `oio admin key add KEY --data DATA_DIR`', { file: this.store.keysFile });
    this.files = this.opts.files?.(ctx);
    const server = new (ssh2().Server)({ hostKeys: [hostKey.privateKey], ident: 'OpenIO-admin' });
    // setNoDelay: replies go out at once, not after the client's delayed ACK (Nagle's algorithm)
    server.on('connection', (client, info) => { client.setNoDelay(true); this.onConnection(client, info.ip); });
    server.on('error', (e) => this.log.error('ssh server error', { err: e }));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => { server.off('error', reject); resolve(); });
    });
    const a = server.address();
    this.actualAddr = a && typeof a === 'object' ? `${this.opts.host}:${a.port}` : `${this.opts.host}:${this.opts.port}`;
    this.server = server;
    this.log.info('ssh console listening', { addr: this.actualAddr, fingerprint: hostKey.fingerprint, passwordAuth: ctx.config['admin_ssh.password_auth'] });
  }

  async stop(): Promise<void> {
    for (const c of this.connections) c.end();
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    const f = this.files;
    this.files = undefined;
    await f?.close().catch((e: unknown) => this.log.error('file transfer close failed', { err: toOioError(e) }));
  }

  private methods(): string[] {
    return this.config['admin_ssh.password_auth'] ? ['publickey', 'password'] : ['publickey'];
  }

  private onConnection(client: Connection, remote: string): void {
    if (this.limiter.isBlocked(remote, Date.now())) {
      this.log.warn('ssh connection refused: too many failed logins', { remote });
      client.on('error', () => undefined);
      client.end();
      return;
    }
    this.connections.add(client);
    let user = '';
    client.on('authentication', (ctx) => {
      this.authenticate(ctx, remote).then((ok) => { if (ok) user = ctx.username; }, (e: unknown) => {
        this.log.error('ssh authentication error', { remote, err: e as Error });
        ctx.reject(this.methods());
      });
    });
    client.on('ready', () => {
      this.log.info('ssh login', { remote, user });
      client.on('session', (accept) => this.onSession(accept(), remote, user));
    });
    client.on('error', (e) => this.log.debug('ssh connection error', { remote, err: e }));
    client.on('close', () => this.connections.delete(client));
  }

  /** Checks one authentication attempt; resolves true when accepted. */
  private async authenticate(ctx: AuthContext, remote: string): Promise<boolean> {
    const methods = this.methods();
    const fail = (why: string): false => {
      const n = this.limiter.fail(remote, Date.now());
      this.log.warn('ssh login failed', { remote, user: ctx.username, method: ctx.method, why, failures: n });
      if (this.limiter.isBlocked(remote, Date.now())) { ctx.reject([], false); this.log.warn('ssh source blocked: too many failed logins', { remote }); return false; }
      ctx.reject(methods);
      return false;
    };
    if (this.limiter.isBlocked(remote, Date.now())) { ctx.reject([], false); return false; }
    if (ctx.method === 'none') { ctx.reject(methods); return false; }
    if (ctx.method !== 'publickey' && ctx.method !== 'password') { ctx.reject(methods); return false; }
    const userOk = ctx.username === this.config['admin_ssh.user'];
    if (ctx.method === 'password') {
      if (!this.config['admin_ssh.password_auth']) return fail('password login is off');
      const ok = await this.store.verifyPassword(this.config['admin_ssh.user'], ctx.password ?? '');
      if (!userOk || !ok) return fail(userOk ? 'wrong password' : 'unknown user');
      ctx.accept();
      return true;
    }
    const offered = ctx.key;
    if (!offered) return fail('no key');
    const match = (await this.store.listKeys()).find((k) => {
      const blob = Buffer.from(k.data, 'base64');
      return blob.length === offered.data.length && timingSafeEqual(blob, offered.data);
    });
    if (!userOk || !match) return fail(userOk ? 'key not authorized' : 'unknown user');
    if (!ctx.signature) { ctx.accept(); return false; } // "would this key do?": yes, now sign
    const parsed = parseKey(`${match.type} ${match.data}`);
    if (!parsed || parsed.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) !== true) return fail('bad signature');
    this.log.info('ssh key accepted', { remote, fingerprint: match.fingerprint, name: match.comment });
    ctx.accept();
    return true;
  }

  private consoleEnv(): ConsoleEnv {
    return {
      proxy: `${this.config.ip}:${this.config['proxy.port']}`,
      account: this.config['admin_ssh.account'],
      nodeDataDir: path.resolve(this.config.data_dir),
    };
  }

  private completionSource(env: ConsoleEnv): CompletionSource {
    return {
      commands: completionCommands(),
      booleans: GLOBAL_BOOLEANS,
      containers: async (prefix) => {
        const page = await new ObjectStorage({ proxy: env.proxy, account: env.account }).containerList({ prefix, limit: 200 });
        return page.containers.map((c) => c.name);
      },
    };
  }

  private onSession(session: Session, remote: string, user: string): void {
    let pty = false;
    const terminal = { cols: 0 };
    let interrupt: (() => void) | undefined;
    session.on('pty', (accept, _reject, info) => { pty = true; terminal.cols = info.cols; accept?.(); });
    session.on('window-change', (accept, _reject, info) => { terminal.cols = info.cols; accept?.(); });
    session.on('env', (accept) => accept?.());
    session.on('signal', (accept, _reject, info) => { accept?.(); if (info.name === 'INT') interrupt?.(); });
    session.on('sftp', (accept, reject) => {
      if (!this.files) { this.log.info('sftp refused: no file transfer on this node', { remote }); reject(); return; }
      this.files.sftp(accept(), { remote, user });
    });
    session.on('subsystem', (_accept, reject, info) => {
      this.log.info('subsystem refused', { remote, name: info.name });
      reject();
    });
    session.on('shell', (accept) => {
      const env = this.consoleEnv();
      const shell = new ShellSession({
        channel: accept(), pty, terminal, env, log: this.log.child({ component: 'console', remote }),
        prompt: `${this.config.namespace}@${this.config.ip}> `, completion: this.completionSource(env),
      });
      interrupt = () => shell.interrupt();
      shell.start();
    });
    session.on('exec', (accept, _reject, info) => {
      const ch = accept();
      const abort = new AbortController();
      interrupt = () => abort.abort();
      void this.exec(ch, info.command, pty, abort, remote, user);
    });
  }

  /** One exec request: parse, run, output, exit status; Ctrl-C (pty) or channel close aborts. */
  private async exec(ch: ServerChannel, command: string, pty: boolean, abort: AbortController, remote: string, user: string): Promise<void> {
    const nl = (s: string) => (pty ? s.replace(/\r?\n/g, '\r\n') : s);
    let done = false;
    const finish = (status: number) => {
      if (done) return;
      done = true;
      ch.exit(status);
      ch.end();
    };
    let words: string[];
    try { words = splitCommandLine(command); }
    catch (e) { ch.stderr.write(nl(`console: ${toOioError(e).message}\n`)); finish(2); return; }
    if (words[0] === 'scp' && words.slice(1).some((w) => /^-[a-z]*[tf]/.test(w))) {
      // Legacy scp (`scp -O`): the client speaks the scp protocol on this channel (its bytes
      // are file data, so no Ctrl-C detection here).
      if (!this.files) { ch.stderr.write('scp: file transfer is not available on this node\n'); finish(1); return; }
      ch.on('close', () => { done = true; });
      const status = await this.files.scp(ch, words.slice(1), { remote, user }).catch((e: unknown) => {
        this.log.error('scp failed', { remote, err: toOioError(e) });
        return 1;
      });
      finish(status);
      return;
    }
    ch.on('data', (d: Buffer) => { if (pty && d.includes(3)) abort.abort(); });
    ch.on('close', () => { done = true; abort.abort(); });
    abort.signal.addEventListener('abort', () => { if (!done) { ch.stderr.write(nl('^C\n')); finish(130); } }, { once: true });
    this.log.info('console exec', { remote, argv: words.slice(0, 3) });
    const io: CliIO = {
      out: (s) => { if (!done) ch.write(nl(s)); },
      err: (s) => { if (!done) ch.stderr.write(nl(s)); },
      isTTY: pty,
    };
    const status = await runConsoleCommand(words, io, this.consoleEnv(), abort.signal).catch((e: unknown) => {
      io.err(`console: ${toOioError(e).code}: ${toOioError(e).message}\n`);
      return 1;
    });
    finish(status);
  }
}
