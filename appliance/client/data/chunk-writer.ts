/**
 * @module client/data/chunk-writer
 * Replicated write of ONE metachunk: the source stream is fanned out to N rawx PUTs in
 * parallel. The slowest live replica paces the source (backpressure), a failed replica is
 * dropped while the others continue, the MD5 is computed on the fly and sent as HTTP trailer.
 * Success needs a quorum; otherwise the chunks written are deleted, so nothing is visible.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ChunkPutMeta, InvalidArgumentError, OioError, toOioError, UnavailableError } from '../../common';
import type { ChunkInfo } from '../../common/model';
import { rawxDelete, rawxPutOpen, RawxUpload } from '../remote';

export interface ReplicaTarget {
  /** chunk URL: http://host:port/<CHUNK_ID> */
  url: string;
}

export interface WriteReplicasOptions {
  /** minimum number of replicas that must be stored (1..targets.length) */
  quorum: number;
  /** byte count of the source when known (checked by rawx) */
  size?: number;
  reqId?: string;
  /** socket inactivity timeout per replica, ms */
  timeoutMs?: number;
}

/** A replica that failed, with the error code it failed with. */
export interface ReplicaFailure {
  url: string;
  code: string;
  message: string;
}

export interface WriteReplicasResult {
  /** uppercase hex MD5 of the metachunk */
  hash: string;
  size: number;
  /** the replicas stored (at least `quorum`), pos = meta.chunkPos */
  chunks: ChunkInfo[];
  failures: ReplicaFailure[];
}

const SOFT_CODES: ReadonlySet<string> = new Set(['UNAVAILABLE', 'TIMEOUT']);

/** Whether a replica's failure code says its rawx was out of reach (timeout, refused), not that it refused the data. */
export function isUnreachableCode(code: string): boolean {
  return SOFT_CODES.has(code);
}

/** The URLs of the replicas out of reach among `failures`. */
export function unreachableUrls(failures: ReadonlyArray<{ url: string; code: string }>): string[] {
  return failures.filter((f) => SOFT_CODES.has(f.code)).map((f) => f.url);
}

/**
 * Streams one metachunk from `source` to every target in parallel and resolves once all
 * replicas settled with at least `quorum` stored. Otherwise rejects — with the first "real"
 * error code seen (NO_SPACE, HASH_MISMATCH, CHUNK_EXISTS, ...) or UNAVAILABLE — after
 * deleting the replicas already stored. A source error aborts every replica (nothing stored)
 * and is rethrown. The source is consumed through 'data' events and paused for backpressure.
 */
export async function writeReplicas(targets: ReplicaTarget[], source: Readable, meta: ChunkPutMeta, opts: WriteReplicasOptions): Promise<WriteReplicasResult> {
  const { quorum } = opts;
  if (!Number.isInteger(quorum) || quorum < 1 || quorum > targets.length) {
    throw new InvalidArgumentError('BAD_REQUEST', `quorum ${quorum} impossible with ${targets.length} targets`);
  }
  const uploads = targets.map((t) => rawxPutOpen(t.url, meta, { size: opts.size, reqId: opts.reqId, timeoutMs: opts.timeoutMs }));
  const failures = new Map<RawxUpload, OioError>();
  const md5 = createHash('md5');
  let size = 0;
  let expectedHash = '';

  await new Promise<void>((resolve, reject) => {
    const live = new Set(uploads);
    const blocked = new Set<RawxUpload>();
    let settled = false;

    const stop = (): void => {
      settled = true;
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
      source.off('close', onClose);
    };
    const maybeResume = (): void => {
      if (!settled && blocked.size === 0 && source.isPaused()) source.resume();
    };
    const fail = (u: RawxUpload, err: OioError): void => {
      if (!failures.has(u)) failures.set(u, err);
      if (!live.delete(u)) return;
      blocked.delete(u);
      u.abort();
      if (settled) return;
      if (live.size < quorum) {
        stop();
        source.pause();
        for (const other of live) other.abort();
        reject(quorumError(uploads, failures, quorum));
        return;
      }
      maybeResume();
    };
    const onData = (buf: Buffer): void => {
      md5.update(buf);
      size += buf.length;
      for (const u of live) {
        if (!u.request.write(buf)) blocked.add(u);
      }
      if (blocked.size > 0) source.pause();
    };
    const onEnd = (): void => {
      stop();
      expectedHash = md5.digest('hex').toUpperCase();
      for (const u of live) u.end(expectedHash);
      resolve();
    };
    const onError = (e: unknown): void => {
      stop();
      for (const u of uploads) u.abort();
      reject(toOioError(e));
    };

    // Destroyed without an error: the body is incomplete, nothing may be stored.
    const onClose = (): void => onError(new OioError('BAD_REQUEST', 'source closed before its end'));

    for (const u of uploads) {
      u.result.catch((e: unknown) => fail(u, toOioError(e)));
      u.request.on('drain', () => { if (blocked.delete(u)) maybeResume(); });
    }
    source.on('data', onData);
    source.on('end', onEnd);
    source.on('error', onError);
    source.on('close', onClose);
    // A source already in paused mode (e.g. a metachunk stream) starts flowing now.
    source.resume();
  }).catch(async (e: unknown) => {
    await Promise.allSettled(uploads.map((u) => u.result));
    throw e;
  });

  const results = await Promise.allSettled(uploads.map((u) => u.result));
  const chunks: ChunkInfo[] = [];
  results.forEach((r, i) => {
    const u = uploads[i]!;
    if (r.status === 'rejected') { if (!failures.has(u)) failures.set(u, toOioError(r.reason)); return; }
    if (r.value.hash.toUpperCase() !== expectedHash || r.value.size !== size) {
      failures.set(u, new OioError('HASH_MISMATCH', `${u.url}: stored ${r.value.size} B ${r.value.hash}, sent ${size} B ${expectedHash}`));
      void rawxDelete(u.url, { reqId: opts.reqId }).catch(() => undefined);
      return;
    }
    chunks.push({ url: u.url, pos: meta.chunkPos, size, hash: expectedHash });
  });
  const failureList = [...failures.entries()].map(([u, e]) => ({ url: u.url, code: e.code, message: e.message }));
  if (chunks.length >= quorum) return { hash: expectedHash, size, chunks, failures: failureList };
  await Promise.allSettled(chunks.map((c) => rawxDelete(c.url, { reqId: opts.reqId })));
  throw quorumError(uploads, failures, quorum);
}

function quorumError(uploads: RawxUpload[], failures: Map<RawxUpload, OioError>, quorum: number): OioError {
  const errs = [...failures.values()];
  const real = errs.find((e) => !SOFT_CODES.has(e.code));
  const detail = [...failures.entries()].map(([u, e]) => `${u.url}: ${e.code}`).join(', ');
  const msg = `${uploads.length - failures.size} of ${uploads.length} replicas stored, quorum ${quorum} not reached (${detail})`;
  if (real) return new OioError(real.code, msg, { cause: real, details: { failures: detail } });
  // The replicas out of reach (timeout, refused): a caller may place the data elsewhere.
  const unreachable = unreachableUrls([...failures.entries()].map(([u, e]) => ({ url: u.url, code: e.code })));
  return new UnavailableError('UNAVAILABLE', msg, { details: { failures: detail, unreachable } });
}
