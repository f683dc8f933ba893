/**
 * @module cli/admin-store
 * The SSH admin console's credentials, kept as files in the console's data folder
 * (`DATA/admin-ssh/`), so `oio admin ...` on the node edits them without the node running and
 * the console reads them at every login (a change applies at once, no restart):
 * - `admin_keys`: authorized public keys, one per line in OpenSSH `authorized_keys` form
 *   (`TYPE BASE64 [COMMENT]`, no options);
 * - `admin_passwords`: `USER scrypt$N$r$p$SALT$HASH` lines (base64), used only when
 *   `admin_ssh.password_auth` is on.
 * Files are written whole (temp file, fsync, rename) with mode 0600.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../common';

/** The console's data folder under a node's data folder. */
export function adminSshDir(nodeDataDir: string): string {
  return path.join(nodeDataDir, 'admin-ssh');
}

export interface AdminKey {
  /** ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256 ... */
  type: string;
  /** the public key blob, base64 as in authorized_keys */
  data: string;
  comment: string;
  /** `SHA256:...` as `ssh-keygen -l` prints it */
  fingerprint: string;
}

const KEY_TYPES = new Set(['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521']);

/** Parses one `TYPE BASE64 [COMMENT]` line; throws BAD_REQUEST when it is not a public key. */
export function parsePublicKey(line: string): AdminKey {
  const [type, data, ...rest] = line.trim().split(/\s+/);
  if (!type || !data || !KEY_TYPES.has(type)) throw new InvalidArgumentError('BAD_REQUEST', `not an OpenSSH public key (want "${[...KEY_TYPES].join('|')} BASE64 [comment]")`);
  const blob = Buffer.from(data, 'base64');
  // The blob starts with its own type as an SSH string: it must match the line's type.
  const len = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
  if (len <= 0 || 4 + len > blob.length || blob.subarray(4, 4 + len).toString('latin1') !== type || blob.toString('base64') !== data) {
    throw new InvalidArgumentError('BAD_REQUEST', 'public key data is not valid base64 of a key of that type');
  }
  const fingerprint = 'SHA256:' + crypto.createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
  return { type, data, comment: rest.join(' '), fingerprint };
}

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };

function scrypt(password: string, salt: Buffer, N: number, r: number, p: number, keylen: number): Promise<Buffer> {
  return new Promise((resolve, reject) => crypto.scrypt(password, salt, keylen, { N, r, p, maxmem: 128 * N * r * 2 }, (e, k) => (e ? reject(e) : resolve(k))));
}

/** The key and password files of one console. */
export class AdminStore {
  readonly keysFile: string;
  readonly passwordsFile: string;

  /** @param dir the console's data folder (`adminSshDir(nodeDataDir)`) */
  constructor(readonly dir: string) {
    this.keysFile = path.join(dir, 'admin_keys');
    this.passwordsFile = path.join(dir, 'admin_passwords');
  }

  private async readLines(file: string): Promise<string[]> {
    const text = await fs.promises.readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => { if (e.code === 'ENOENT') return ''; throw e; });
    return text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  }

  private async writeLines(file: string, lines: string[]): Promise<void> {
    await fs.promises.mkdir(this.dir, { recursive: true });
    const tmp = `${file}.tmp-${process.pid}`;
    const fh = await fs.promises.open(tmp, 'w', 0o600);
    try { await fh.writeFile(lines.map((l) => l + '\n').join('')); await fh.sync(); } finally { await fh.close(); }
    await fs.promises.rename(tmp, file);
  }

  /** Authorized keys; a malformed line is skipped (it can never match a login). */
  async listKeys(): Promise<AdminKey[]> {
    const out: AdminKey[] = [];
    for (const l of await this.readLines(this.keysFile)) {
      try { out.push(parsePublicKey(l)); } catch { /* skipped: not a key */ }
    }
    return out;
  }

  /** Adds a key (`TYPE BASE64 [COMMENT]`); `name` replaces the comment; a duplicate is a ConflictError (CONTENT_EXISTS). */
  async addKey(line: string, name?: string): Promise<AdminKey> {
    const key = parsePublicKey(line);
    if (name !== undefined) key.comment = name;
    const keys = await this.listKeys();
    if (keys.some((k) => k.data === key.data)) throw new ConflictError('CONTENT_EXISTS', `key ${key.fingerprint} is already authorized`);
    await this.writeLines(this.keysFile, [...keys, key].map((k) => `${k.type} ${k.data}${k.comment ? ' ' + k.comment : ''}`));
    return key;
  }

  /** Removes the keys whose fingerprint or comment is `id`; NotFoundError when none. */
  async removeKey(id: string): Promise<AdminKey[]> {
    const keys = await this.listKeys();
    const gone = keys.filter((k) => k.fingerprint === id || k.comment === id);
    if (gone.length === 0) throw new NotFoundError('CONTENT_NOT_FOUND', `no authorized key with fingerprint or name "${id}"`);
    await this.writeLines(this.keysFile, keys.filter((k) => !gone.includes(k)).map((k) => `${k.type} ${k.data}${k.comment ? ' ' + k.comment : ''}`));
    return gone;
  }

  /** Stores an scrypt hash of `password` for `user` (replacing any). */
  async setPassword(user: string, password: string): Promise<void> {
    if (!/^[A-Za-z0-9._-]+$/.test(user)) throw new InvalidArgumentError('BAD_REQUEST', `invalid user name "${user}"`);
    if (password.length < 8) throw new InvalidArgumentError('BAD_REQUEST', 'a console password needs at least 8 characters');
    const salt = crypto.randomBytes(16);
    const hash = await scrypt(password, salt, SCRYPT.N, SCRYPT.r, SCRYPT.p, SCRYPT.keylen);
    const lines = (await this.readLines(this.passwordsFile)).filter((l) => l.split(' ')[0] !== user);
    lines.push(`${user} scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`);
    await this.writeLines(this.passwordsFile, lines);
  }

  /** Removes `user`'s password; NotFoundError when none is set. */
  async removePassword(user: string): Promise<void> {
    const lines = await this.readLines(this.passwordsFile);
    const kept = lines.filter((l) => l.split(' ')[0] !== user);
    if (kept.length === lines.length) throw new NotFoundError('CONTENT_NOT_FOUND', `no password set for "${user}"`);
    await this.writeLines(this.passwordsFile, kept);
  }

  /** Users that have a password. */
  async passwordUsers(): Promise<string[]> {
    return (await this.readLines(this.passwordsFile)).map((l) => l.split(' ')[0]!);
  }

  /** Whether `password` matches `user`'s stored hash (constant-time compare; false when none). */
  async verifyPassword(user: string, password: string): Promise<boolean> {
    const line = (await this.readLines(this.passwordsFile)).find((l) => l.split(' ')[0] === user);
    const m = line ? /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(line.split(' ')[1] ?? '') : null;
    if (!m) return false;
    const want = Buffer.from(m[5]!, 'base64');
    const got = await scrypt(password, Buffer.from(m[4]!, 'base64'), Number(m[1]), Number(m[2]), Number(m[3]), want.length);
    return got.length === want.length && crypto.timingSafeEqual(got, want);
  }
}
