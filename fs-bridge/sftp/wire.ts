/**
 * @module fs-bridge/sftp/wire
 * The typed seam onto ssh2's server-side SFTP stream (the object `session.on('sftp')`'s
 * accept returns; ssh2 ships no types): the request events it emits, the replies it sends,
 * and the SFTP v3 constants (draft-ietf-secsh-filexfer-02) this front end uses.
 */
import type { EventEmitter } from 'node:events';

/** SSH_FX_* status codes of SFTP v3. */
export const enum SftpStatus {
  OK = 0,
  EOF = 1,
  NO_SUCH_FILE = 2,
  PERMISSION_DENIED = 3,
  FAILURE = 4,
  BAD_MESSAGE = 5,
  NO_CONNECTION = 6,
  CONNECTION_LOST = 7,
  OP_UNSUPPORTED = 8,
}

/** SSH_FXF_* open flags. */
export const OPEN_FLAG = { READ: 0x01, WRITE: 0x02, APPEND: 0x04, CREAT: 0x08, TRUNC: 0x10, EXCL: 0x20 } as const;

/** Attributes as ssh2 parses and writes them: times in seconds, mode with the type bits. */
export interface WireAttrs {
  size?: number;
  uid?: number;
  gid?: number;
  mode?: number;
  atime?: number;
  mtime?: number;
}

export interface WireName {
  filename: string;
  longname: string;
  attrs: WireAttrs;
}

/** ssh2's server SFTP stream: one event per request, one reply method per response type. */
export interface SftpWire extends EventEmitter {
  on(ev: 'OPEN', l: (id: number, filename: string, flags: number, attrs: WireAttrs) => void): this;
  on(ev: 'READ', l: (id: number, handle: Buffer, offset: number, length: number) => void): this;
  on(ev: 'WRITE', l: (id: number, handle: Buffer, offset: number, data: Buffer) => void): this;
  on(ev: 'CLOSE' | 'FSTAT' | 'READDIR', l: (id: number, handle: Buffer) => void): this;
  on(ev: 'FSETSTAT', l: (id: number, handle: Buffer, attrs: WireAttrs) => void): this;
  on(ev: 'STAT' | 'LSTAT' | 'OPENDIR' | 'REMOVE' | 'RMDIR' | 'REALPATH' | 'READLINK', l: (id: number, path: string) => void): this;
  on(ev: 'SETSTAT' | 'MKDIR', l: (id: number, path: string, attrs: WireAttrs) => void): this;
  on(ev: 'RENAME', l: (id: number, from: string, to: string) => void): this;
  /** ssh2 puts OpenSSH's swapped arguments back in order */
  on(ev: 'SYMLINK', l: (id: number, linkPath: string, targetPath: string) => void): this;
  on(ev: 'EXTENDED', l: (id: number, name: string, data: Buffer | undefined) => void): this;
  on(ev: 'end' | 'close' | 'ready', l: () => void): this;
  on(ev: 'error', l: (e: Error) => void): this;
  status(id: number, code: SftpStatus, message?: string): void;
  handle(id: number, handle: Buffer): void;
  data(id: number, data: Buffer): void;
  name(id: number, names: WireName[]): void;
  attrs(id: number, attrs: WireAttrs): void;
  end(): void;
}

/** The ssh2 SFTP stream seen through its type (the one cast of this front end). */
export function asSftpWire(stream: EventEmitter): SftpWire {
  const s = stream as Partial<SftpWire>;
  if (typeof s.status !== 'function' || typeof s.handle !== 'function' || typeof s.name !== 'function') {
    throw new TypeError('not an ssh2 server SFTP stream');
  }
  return stream as SftpWire;
}

interface ChannelInternals {
  _protocol?: { exitStatus(channelId: number, status: number): void };
  outgoing?: { id: number; state: string };
}

/**
 * Sends exit-status on the SFTP channel before it closes. ssh2's SFTP stream has no `exit()`
 * (only its plain channels do), but OpenSSH's scp checks the status its ssh child reports:
 * without one (what OpenSSH's sshd sends when sftp-server exits) ssh reports -1 and scp
 * fails a transfer that worked. Uses the same protocol call as ssh2's Channel.exit().
 */
export function sendExitStatus(wire: SftpWire, status: number): void {
  const w = wire as unknown as ChannelInternals;
  if (w.outgoing?.state === 'open' && typeof w._protocol?.exitStatus === 'function') w._protocol.exitStatus(w.outgoing.id, status);
}
