/**
 * @module gateways/admin-ssh/ssh2
 * The typed seam onto the `ssh2` package (it ships no types): only the parts the console
 * uses, loaded once with a clear message when the package is missing.
 */
import type { Duplex, Writable } from 'node:stream';
import type { EventEmitter } from 'node:events';

export interface ParsedKey {
  type: string;
  comment: string;
  getPublicSSH(): Buffer;
  verify(data: Buffer, signature: Buffer, hashAlgo?: string): boolean | Error;
}

export interface AuthContext {
  username: string;
  method: 'none' | 'password' | 'publickey' | 'hostbased' | 'keyboard-interactive';
  /** password method */
  password?: string;
  /** publickey method */
  key?: { algo: string; data: Buffer };
  signature?: Buffer;
  blob?: Buffer;
  hashAlgo?: string;
  accept(): void;
  reject(methodsLeft?: string[], isPartial?: boolean): void;
}

export interface PtyInfo { cols: number; rows: number; term: string }

/** A session channel: stdout is the stream itself, stderr its `stderr`. */
export interface ServerChannel extends Duplex {
  stderr: Writable;
  exit(status: number): void;
  exit(signal: string, coreDumped: boolean, msg: string): void;
  close(): void;
}

type Accept<T> = () => T;
type Reject = () => void;

export interface Session extends EventEmitter {
  on(event: 'pty', l: (accept: Accept<void> | undefined, reject: Reject | undefined, info: PtyInfo) => void): this;
  on(event: 'window-change', l: (accept: Accept<void> | undefined, reject: Reject | undefined, info: PtyInfo) => void): this;
  on(event: 'env', l: (accept: Accept<void> | undefined, reject: Reject | undefined, info: { key: string; val: string }) => void): this;
  on(event: 'signal', l: (accept: Accept<void> | undefined, reject: Reject | undefined, info: { name: string }) => void): this;
  on(event: 'shell', l: (accept: Accept<ServerChannel>, reject: Reject) => void): this;
  on(event: 'exec', l: (accept: Accept<ServerChannel>, reject: Reject, info: { command: string }) => void): this;
  on(event: 'subsystem', l: (accept: Accept<ServerChannel>, reject: Reject, info: { name: string }) => void): this;
  /** accept returns ssh2's server SFTP stream (typed by the file front end that serves it) */
  on(event: 'sftp', l: (accept: Accept<EventEmitter>, reject: Reject) => void): this;
  on(event: 'close', l: () => void): this;
}

export interface Connection extends EventEmitter {
  on(event: 'authentication', l: (ctx: AuthContext) => void): this;
  on(event: 'ready', l: () => void): this;
  on(event: 'session', l: (accept: Accept<Session>, reject: Reject) => void): this;
  on(event: 'tcpip' | 'openssh.streamlocal', l: (accept: unknown, reject: Reject) => void): this;
  on(event: 'request', l: (accept: unknown, reject: Reject | undefined, name: string) => void): this;
  on(event: 'error', l: (err: Error) => void): this;
  on(event: 'close' | 'end', l: () => void): this;
  end(): void;
  /** the TCP socket's TCP_NODELAY */
  setNoDelay(noDelay: boolean): void;
}

export interface ConnectionInfo { ip: string; port: number; family: string; header: { identRaw: string } }

export interface Server extends EventEmitter {
  on(event: 'connection', l: (client: Connection, info: ConnectionInfo) => void): this;
  on(event: 'error', l: (err: Error) => void): this;
  listen(port: number, host: string, cb: () => void): this;
  close(cb?: (err?: Error) => void): void;
  address(): { port: number; address: string } | string | null;
}

export interface ServerConfig {
  hostKeys: Array<Buffer | string>;
  ident?: string;
  banner?: string;
}

interface Ssh2Module {
  Server: new (config: ServerConfig) => Server;
  utils: {
    parseKey(data: Buffer | string, passphrase?: string): ParsedKey | ParsedKey[] | Error;
    generateKeyPairSync(type: 'ed25519' | 'rsa', opts?: { bits?: number; comment?: string }): { private: string; public: string };
  };
}

let loaded: Ssh2Module | undefined;

/** The ssh2 module, loaded on first use (fails with what to install). */
export function ssh2(): Ssh2Module {
  if (!loaded) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      loaded = require('ssh2') as Ssh2Module;
    } catch (e) {
      throw new Error(`the SSH admin console needs the npm package "ssh2" (npm ci): ${(e as Error).message}`);
    }
  }
  return loaded;
}

/** Parses one OpenSSH key (public or private); undefined when it is not one. */
export function parseKey(data: Buffer | string): ParsedKey | undefined {
  const k = ssh2().utils.parseKey(data);
  if (k instanceof Error) return undefined;
  return Array.isArray(k) ? k[0] : k;
}
