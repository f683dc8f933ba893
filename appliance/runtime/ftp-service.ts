/**
 * @module runtime/ftp-service
 * Service type `ftp`: the FTP bridge (fs-bridge/ftp) hosted like any other service, started by
 * `oio node up` when node.services lists it or alone by `oio service run ftp`. Config:
 * ftp.port, ftp.pasv_range, ftp.tls, ftp.users (extra NAME -> { password, account }); users of
 * the S3 credential store (`oio user`) log in with access key and secret key. Talks to the
 * node's proxy through the client library.
 */
import path from 'node:path';
import type { LocalVolumes } from '../client/data';
import { ObjectStorage } from '../client/object-storage';
import { InvalidArgumentError, isNotFound } from '../common';
import { startFtpServer, type FtpServerHandle, type FtpUser } from '../../fs-bridge/ftp';
import type { Service, ServiceContext } from './service';

/** Parses "MIN-MAX" (inclusive). */
export function parsePortRange(s: string): { min: number; max: number } {
  const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(s);
  const min = Number(m?.[1]);
  const max = Number(m?.[2]);
  if (!m || min < 1 || max > 65535 || min > max) throw new InvalidArgumentError('BAD_REQUEST', `ftp.pasv_range must be "MIN-MAX" within 1-65535, not "${s}"`);
  return { min, max };
}

export class FtpService implements Service {
  readonly type = 'ftp';
  private handle?: FtpServerHandle;

  constructor(private readonly o: { host: string; port: number; proxy: string; localVolumes?: LocalVolumes }) {}

  get addr(): string { return `${this.o.host}:${this.o.port}`; }

  async start(ctx: ServiceContext): Promise<void> {
    const c = ctx.config;
    const range = parsePortRange(c['ftp.pasv_range']);
    const fixed = c['ftp.users'] as Record<string, FtpUser>;
    const storage = new ObjectStorage({ proxy: this.o.proxy, account: 'default', localVolumes: this.o.localVolumes });
    // The S3 credential store: an access key logs in with its secret key and gets its account
    // (ftp.users adds names of its own, checked first).
    const users = async (name: string): Promise<FtpUser | undefined> => {
      if (Object.prototype.hasOwnProperty.call(fixed, name)) return fixed[name];
      const u = await storage.userShow(name).catch((e: unknown) => { if (isNotFound(e)) return undefined; throw e; });
      return u?.secret_key ? { password: u.secret_key, account: u.account } : undefined;
    };
    this.handle = await startFtpServer({
      storage,
      host: this.o.host, port: this.o.port, pasvMin: range.min, pasvMax: range.max,
      users, tlsDir: c['ftp.tls'] ? path.join(ctx.dataDir, 'tls') : undefined,
      dataDir: ctx.dataDir, log: ctx.log,
    });
  }

  async stop(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
  }
}
