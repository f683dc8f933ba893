/**
 * @module client/data/ec-writer
 * Erasure-coded write of ONE metachunk: the source is read stripe by stripe (k cells of the
 * layout's cell size, see client/ec/layout.ts), each stripe encoded into m parity cells off the
 * event loop, and the k + m cells (each followed by its CRC-32) streamed in parallel to the
 * k + m rawx of the prepare answer, fragment i at position `N.i`. Each fragment's MD5 is
 * computed on the fly and sent as trailer, so rawx checks it. Memory stays at about two
 * stripes whatever the metachunk size. A fragment that fails is dropped while the others go
 * on; success needs `quorum` fragments stored (K+1 by default), else every stored fragment is
 * deleted and nothing is visible.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { ChunkPutMeta, InvalidArgumentError, OioError, toOioError, UnavailableError } from '../../common';
import type { ChunkInfo } from '../../common/model';
import { codecFor, CELL_TRAILER_BYTES, type EcParams } from '../ec';
import { rawxDelete, rawxPutOpen, type RawxUpload } from '../remote';
import { isUnreachableCode, unreachableUrls, type ReplicaFailure } from './chunk-writer';

export interface WriteEcOptions {
  /** fragments that must be stored (k..k+m) */
  quorum: number;
  reqId?: string;
  /** socket inactivity timeout per fragment, ms */
  timeoutMs?: number;
}

export interface WriteEcResult {
  /** bytes of the metachunk */
  size: number;
  /** the fragments stored, pos `N.i`, size = the metachunk's size, hash = the fragment's MD5 */
  chunks: ChunkInfo[];
  failures: ReplicaFailure[];
}


interface Fragment {
  index: number;
  url: string;
  upload: RawxUpload;
  md5: Hash;
  bytes: number;
  error?: OioError;
}

/** Writes a cell and its CRC-32 trailer. */
function cellWithCrc(cell: Buffer): Buffer[] {
  const crc = Buffer.allocUnsafe(CELL_TRAILER_BYTES);
  crc.writeUInt32BE(zlib.crc32(cell) >>> 0, 0);
  return [cell, crc];
}

/**
 * Encodes the metachunk read from `source` and stores its fragments: `urls[i]` receives
 * fragment i (`urls` may hold fewer than k + m urls in a degraded placement: the missing
 * fragments are not written). `meta.chunkPos` is the metachunk position N. Throws
 * UNAVAILABLE (or the first real error: NO_SPACE, HASH_MISMATCH, ...) when fewer than
 * `quorum` fragments are stored, after deleting those that were; rethrows a source error.
 */
export async function writeEcMetachunk(urls: string[], source: Readable, meta: ChunkPutMeta, p: EcParams, opts: WriteEcOptions): Promise<WriteEcResult> {
  const { k, m } = p;
  const quorum = opts.quorum;
  if (!Number.isInteger(quorum) || quorum < k || quorum > k + m) throw new InvalidArgumentError('BAD_REQUEST', `EC quorum ${quorum} outside ${k}..${k + m}`);
  if (urls.length < quorum) throw new UnavailableError('UNAVAILABLE', `${urls.length} fragment targets for quorum ${quorum}`);
  const codec = codecFor(p.algo, k, m);
  const pos = meta.chunkPos;
  const frags: Fragment[] = urls.slice(0, k + m).map((url, index) => ({
    index, url, md5: createHash('md5'), bytes: 0,
    upload: rawxPutOpen(url, { ...meta, chunkPos: `${pos}.${index}` }, { reqId: opts.reqId, timeoutMs: opts.timeoutMs }),
  }));
  const live = (): Fragment[] => frags.filter((f) => !f.error);
  for (const f of frags) f.upload.result.catch((e: unknown) => { f.error ??= toOioError(e); });

  const checkQuorum = (): void => {
    if (live().length < quorum) throw quorumError(frags, quorum);
  };

  /** Sends one stripe's cells (cells[i] for fragment i) and waits until the sockets drain. */
  const send = async (cells: Buffer[]): Promise<void> => {
    const waits: Promise<void>[] = [];
    for (const f of live()) {
      const [cell, crc] = cellWithCrc(cells[f.index]!);
      f.md5.update(cell!).update(crc!);
      f.bytes += cell!.length + crc!.length;
      f.upload.request.write(cell);
      if (!f.upload.request.write(crc)) {
        waits.push(new Promise<void>((resolve) => {
          const done = (): void => { f.upload.request.off('drain', done); f.upload.request.off('close', done); resolve(); };
          f.upload.request.on('drain', done);
          f.upload.request.on('close', done);
        }));
      }
    }
    await Promise.all(waits);
    checkQuorum();
  };

  const stripe = k * p.cell;
  let size = 0;
  try {
    let buf = Buffer.allocUnsafe(stripe);
    let filled = 0;
    const flush = async (): Promise<void> => {
      // The last stripe: smaller cells, the data zero padded up to k cells.
      const cell = filled === stripe ? p.cell : Math.max(8, Math.ceil(Math.ceil(filled / k) / 8) * 8);
      const data = filled === stripe ? buf : Buffer.alloc(k * cell);
      if (data !== buf) buf.copy(data, 0, 0, filled);
      const parity = Buffer.allocUnsafe(m * cell);
      await codec.encode(k, m, cell, data, parity);
      const cells: Buffer[] = [];
      for (let i = 0; i < k; i++) cells.push(data.subarray(i * cell, (i + 1) * cell));
      for (let j = 0; j < m; j++) cells.push(parity.subarray(j * cell, (j + 1) * cell));
      await send(cells);
      // The buffers now belong to the sockets: a new one for the next stripe.
      buf = Buffer.allocUnsafe(stripe);
      filled = 0;
    };
    for await (const chunk of source as AsyncIterable<Buffer>) {
      let off = 0;
      while (off < chunk.length) {
        const n = Math.min(stripe - filled, chunk.length - off);
        chunk.copy(buf, filled, off, off + n);
        filled += n;
        off += n;
        size += n;
        if (filled === stripe) await flush();
      }
      checkQuorum();
    }
    if (filled > 0) await flush();
  } catch (e) {
    for (const f of frags) f.upload.abort();
    await Promise.allSettled(frags.map((f) => f.upload.result));
    // Stored fragments (none should be, the bodies were cut) are removed anyway.
    throw toOioError(e);
  }

  const hashes = new Map<Fragment, string>();
  for (const f of live()) {
    const h = f.md5.digest('hex').toUpperCase();
    hashes.set(f, h);
    f.upload.end(h);
  }
  const results = await Promise.allSettled(frags.map((f) => f.upload.result));
  const chunks: ChunkInfo[] = [];
  results.forEach((r, i) => {
    const f = frags[i]!;
    if (r.status === 'rejected') { f.error ??= toOioError(r.reason); return; }
    const h = hashes.get(f);
    if (h === undefined) return;
    if (r.value.hash.toUpperCase() !== h || r.value.size !== f.bytes) {
      f.error = new OioError('HASH_MISMATCH', `${f.url}: stored ${r.value.size} B ${r.value.hash}, sent ${f.bytes} B ${h}`);
      void rawxDelete(f.url, { reqId: opts.reqId }).catch(() => undefined);
      return;
    }
    chunks.push({ url: f.url, pos: `${pos}.${f.index}`, size, hash: h });
  });
  const failures = frags.filter((f) => f.error).map((f) => ({ url: f.url, code: f.error!.code, message: f.error!.message }));
  if (chunks.length >= quorum) return { size, chunks, failures };
  await Promise.allSettled(chunks.map((c) => rawxDelete(c.url, { reqId: opts.reqId })));
  throw quorumError(frags, quorum);
}

function quorumError(frags: Fragment[], quorum: number): OioError {
  const failed = frags.filter((f) => f.error);
  const real = failed.find((f) => !isUnreachableCode(f.error!.code))?.error;
  const detail = failed.map((f) => `fragment ${f.index} ${f.url}: ${f.error!.code}`).join(', ');
  const msg = `${frags.length - failed.length} of ${frags.length} fragments stored, quorum ${quorum} not reached (${detail})`;
  if (real) return new OioError(real.code, msg, { cause: real, details: { failures: detail } });
  // The fragments' rawx out of reach (timeout, refused): a caller may place the data elsewhere.
  const unreachable = unreachableUrls(failed.map((f) => ({ url: f.url, code: f.error!.code })));
  return new UnavailableError('UNAVAILABLE', msg, { details: { failures: detail, unreachable } });
}
