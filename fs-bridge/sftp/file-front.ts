/**
 * @module fs-bridge/sftp/file-front
 * The file transfer front end of the SSH console: SFTP sessions (and legacy `scp -t/-f`)
 * on one bridge over the console's account, made on first use and shared by every session
 * (one inode base, one spool under `dataDir`). The SSH server hands it channels; it never
 * sees the host's files.
 */
import type { EventEmitter } from 'node:events';
import path from 'node:path';
import { toOioError, type Logger } from '../../appliance/common';
import type { ObjectStorage } from '../../appliance/client/object-storage';
import { createBridgeFs, type LocalBridgeFs } from '../core';
import { runScp, type ScpChannel } from './scp';
import { serveSftp } from './sftp-session';

export interface FileFrontOptions {
  /** client library on the account the sessions show (containers at the top level) */
  storage: ObjectStorage;
  /** inode base and spool */
  dataDir: string;
  /** attribute cache lifetime (bound on how long a change made through S3 stays unseen) */
  attrTtlMs?: number;
  log?: Logger;
}

/** Who a session belongs to (logged). */
export interface FileSessionInfo { remote: string; user: string }

export interface FileFront {
  /** serves an SFTP subsystem channel (ssh2's server SFTP stream) until it ends */
  sftp(stream: EventEmitter, who: FileSessionInfo): void;
  /** legacy scp on an exec channel: `args` after the word scp; resolves with the exit status */
  scp(channel: ScpChannel, args: string[], who: FileSessionInfo): Promise<number>;
  /** commits pending files, closes the bridge */
  close(): Promise<void>;
}

/** The front end; its bridge opens on the first session. */
export function createFileFront(opts: FileFrontOptions): FileFront {
  let bridge: LocalBridgeFs | undefined;
  const bridgeOf = (): LocalBridgeFs => {
    bridge ??= createBridgeFs({
      storage: opts.storage, stateDir: opts.dataDir, spoolDir: path.join(opts.dataDir, 'spool'),
      attrTtlMs: opts.attrTtlMs ?? 1000, log: opts.log?.child({ component: 'bridge' }),
    });
    return bridge;
  };
  return {
    sftp(stream, who) {
      const log = opts.log?.child({ component: 'sftp', remote: who.remote });
      log?.info('sftp session', { user: who.user, account: opts.storage.account });
      serveSftp(stream, { bridge: bridgeOf(), log }).then(
        (c) => log?.info('sftp session end', { ...c }),
        (e: unknown) => log?.error('sftp session failed', { err: toOioError(e) }),
      );
    },
    async scp(channel, args, who) {
      const log = opts.log?.child({ component: 'scp', remote: who.remote });
      log?.info('scp session', { user: who.user, account: opts.storage.account, args });
      const status = await runScp(channel, args, { bridge: bridgeOf(), log });
      log?.info('scp session end', { status });
      return status;
    },
    async close() {
      const b = bridge;
      bridge = undefined;
      await b?.close();
    },
  };
}
