/**
 * @module agents/appliance/s3-tls
 * S3 over HTTPS on port 443 for a root file system from before 2026-12-05 (its
 * oio-s3-tls.service runs `oio-appliance s3-tls`; the gateway now serves HTTPS itself, see
 * s3.tls_port): a TLS terminator in front of the node's S3 gateway (plain HTTP on s3.port).
 * Bytes pass through unchanged, so SigV4 signatures (over the Host header the client sent)
 * still verify. The certificate is self-signed, made on the first start (per machine, never in
 * the image), for the node's address and host name.
 */
import net from 'node:net';
import tls from 'node:tls';
import { ensureCertificate, type Logger } from '../../appliance/common';

export interface S3TlsOptions {
  /** address to listen on and of the S3 gateway */
  host: string;
  port: number;
  s3Port: number;
  certFile: string;
  keyFile: string;
  log: Logger;
}

/** Serves TLS on host:port, piping each connection to the S3 gateway. */
export async function startS3Tls(o: S3TlsOptions): Promise<tls.Server> {
  const pair = await ensureCertificate({ certFile: o.certFile, keyFile: o.keyFile }, o.host, 'S3 HTTPS');
  const server = tls.createServer({ ...pair, minVersion: 'TLSv1.2' }, (client) => {
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
