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

/** Loads `dir/host_key`, or makes and stores one (atomically) when there is none. */
export async function loadOrCreateHostKey(dir: string): Promise<HostKey> {
  const file = path.join(dir, 'host_key');
  let created = false;
  let text = await fs.promises.readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => { if (e.code === 'ENOENT') return undefined; throw e; });
  if (text === undefined) {
    const pair = ssh2().utils.generateKeyPairSync('ed25519', { comment: 'oio-admin-ssh' });
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
