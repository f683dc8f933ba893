/**
 * @module common/tls-cert
 * A self-signed certificate made on a service's first start (S3 over HTTPS, FTP's AUTH TLS),
 * with the `openssl` CLI run asynchronously: never baked into an image, one per machine.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { OioError } from './errors';

export interface CertificateFiles { certFile: string; keyFile: string }

/**
 * Makes `certFile` / `keyFile` (EC P-256, ten years) for `host` (an address or a name, with
 * the machine's host name and localhost as other names) unless both exist; returns their
 * contents. Written under temporary names and renamed, so a crash never leaves half a pair.
 */
export async function ensureCertificate(files: CertificateFiles, host: string, what = 'TLS'): Promise<{ cert: Buffer; key: Buffer }> {
  const { certFile, keyFile } = files;
  if (!fs.existsSync(certFile) || !fs.existsSync(keyFile)) {
    await fs.promises.mkdir(path.dirname(certFile), { recursive: true, mode: 0o700 });
    await fs.promises.mkdir(path.dirname(keyFile), { recursive: true, mode: 0o700 });
    const names = [net.isIP(host) ? `IP:${host}` : `DNS:${host}`, `DNS:${os.hostname()}`, 'DNS:localhost'];
    const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '3650',
      '-subj', `/CN=${os.hostname()}`, '-addext', `subjectAltName=${[...new Set(names)].join(',')}`,
      '-keyout', `${keyFile}.tmp`, '-out', `${certFile}.tmp`];
    await new Promise<void>((resolve, reject) => execFile('openssl', args, (err, _o, stderr) => (err
      ? reject(new OioError('INTERNAL', `openssl could not make the ${what} certificate: ${(stderr || err.message).trim()}`))
      : resolve())));
    await fs.promises.chmod(`${keyFile}.tmp`, 0o600);
    await fs.promises.rename(`${keyFile}.tmp`, keyFile);
    await fs.promises.rename(`${certFile}.tmp`, certFile);
  }
  return { cert: await fs.promises.readFile(certFile), key: await fs.promises.readFile(keyFile) };
}
