/**
 * @module gateways/admin-ssh/host-key
 * The console's host key: an ed25519 key made on first start and kept in the console's data
 * folder (`host_key`, OpenSSH format, mode 0600, plus `host_key.pub`), so clients see the
 * same key after every restart.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { OioError } from '../../common';
import { parseKey, ssh2 } from './ssh2';

export interface HostKey {
  /** the private key text, as ssh2's `hostKeys` wants it */
  privateKey: string;
  /** `SHA256:...` of the public key (as `ssh-keygen -l` and the client's known_hosts show) */
  fingerprint: string;
  /** whether this start made it */
  created: boolean;
}

type KeyPair = { private: string; public: string };
type Generate = () => KeyPair;

const generateEd25519: Generate = () => ssh2().utils.generateKeyPairSync('ed25519', { comment: 'oio-admin-ssh' });

/**
 * A new ed25519 pair that ssh2 reads back. ssh2's generator drops a leading zero byte of the
 * key (about 1 key in 300: 68 of 20,000 here), writing a 31-byte public key that no one can
 * read; such a pair is thrown away and another made.
 */
export function generateHostKeyPair(generate: Generate = generateEd25519, attempts = 16): KeyPair {
  for (let i = 0; i < attempts; i++) {
    const pair = generate();
    // the public blob: "ssh-ed25519" (4 + 11 bytes) then the 32-byte key (4 + 32)
    const blob = parseKey(pair.private)?.getPublicSSH();
    if (blob?.length === 51 && pair.public.split(' ')[1] === blob.toString('base64')) return pair;
  }
  throw new OioError('INTERNAL', `could not make an ed25519 host key ssh2 reads back (${attempts} attempts)`);
}

/** Loads `dir/host_key`, or makes and stores one (atomically) when there is none. */
export async function loadOrCreateHostKey(dir: string): Promise<HostKey> {
  const file = path.join(dir, 'host_key');
  let created = false;
  let text = await fs.promises.readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => { if (e.code === 'ENOENT') return undefined; throw e; });
  if (text === undefined) {
    const pair = generateHostKeyPair();
    const tmp = `${file}.tmp-${process.pid}`;
    const fh = await fs.promises.open(tmp, 'w', 0o600);
    try { await fh.writeFile(pair.private); await fh.sync(); } finally { await fh.close(); }
    await fs.promises.writeFile(`${file}.pub`, pair.public + '\n', { mode: 0o644 });
    await fs.promises.rename(tmp, file);
    text = pair.private;
    created = true;
  }
  const key = parseKey(text);
  if (!key) throw new OioError('INTERNAL', `${file} is not a private key ssh2 can read: remove it to make a new one`);
  const fingerprint = 'SHA256:' + crypto.createHash('sha256').update(key.getPublicSSH()).digest('base64').replace(/=+$/, '');
  return { privateKey: text, fingerprint, created };
}
