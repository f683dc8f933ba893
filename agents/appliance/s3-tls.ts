/**
 * @module agents/appliance/s3-tls
 * S3 over HTTPS on port 443: a TLS terminator in front of the node's S3 gateway (which speaks
 * plain HTTP on s3.port). Bytes pass through unchanged, so SigV4 signatures (over the Host
 * header the client sent) still verify. The certificate is self-signed, made with openssl on
 * the first start (per machine, never in the image), for the node's address and host name.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import type { Logger } from '../../appliance/common';
import { runOk } from '../disk-manager';

export interface S3TlsOptions {
  /** address to listen on and of the S3 gateway */
  host: string;
  port: number;
  s3Port: number;
  certFile: string;
  keyFile: string;
  log: Logger;
}

/** Makes a self-signed certificate for `host` unless one exists. */
export async function ensureCertificate(certFile: string, keyFile: string, host: string): Promise<void> {
  if (fs.existsSync(certFile) && fs.existsSync(keyFile)) return;
  fs.mkdirSync(path.dirname(certFile), { recursive: true, mode: 0o700 });
  const san = `subjectAltName=${net.isIP(host) ? `IP:${host}` : `DNS:${host}`},DNS:${os.hostname()},DNS:localhost`;
  await runOk('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '3650',
    '-subj', `/CN=${os.hostname()}`, '-addext', san, '-keyout', `${keyFile}.tmp`, '-out', `${certFile}.tmp`]);
  fs.chmodSync(`${keyFile}.tmp`, 0o600);
  fs.renameSync(`${keyFile}.tmp`, keyFile);
  fs.renameSync(`${certFile}.tmp`, certFile);
}

/** Serves TLS on host:port, piping each connection to the S3 gateway. */
export async function startS3Tls(o: S3TlsOptions): Promise<tls.Server> {
  await ensureCertificate(o.certFile, o.keyFile, o.host);
  const server = tls.createServer({ cert: fs.readFileSync(o.certFile), key: fs.readFileSync(o.keyFile), minVersion: 'TLSv1.2' }, (client) => {
    const upstream = net.connect({ host: o.host, port: o.s3Port });
    const close = () => { client.destroy(); upstream.destroy(); };
    client.on('error', close);
    upstream.on('error', (e) => { o.log.warn('S3 gateway unreachable', { err: e }); close(); });
    client.pipe(upstream).pipe(client);
  });
  server.on('tlsClientError', () => { /* scanners and bad clients: nothing to do */ });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(o.port, o.host, () => resolve()); });
  o.log.info('S3 TLS listening', { addr: `${o.host}:${o.port}`, upstream: `${o.host}:${o.s3Port}`, cert: o.certFile });
  return server;
}
