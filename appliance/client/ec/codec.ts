/**
 * @module client/ec/codec
 * The one typed seam to the Reed-Solomon codecs. Two algorithms, recorded in each EC
 * content's chunk method (`algo=`) because their parity bytes differ:
 *
 * - `ronomon_cauchy`: the native addon `@ronomon/reed-solomon` (Cauchy bit-matrix, k <= 24,
 *   m <= 6); it runs in libuv's thread pool, never on the event loop. The fast path.
 * - `js_rs_vand`: our portable GF(2^8) Vandermonde code (gf256.ts), run in a worker_threads
 *   pool for stripes of 64 KiB and more (inline below). Used when the addon does not load
 *   (or is disabled with OIO_EC_NATIVE=0), or k/m exceed the addon's limits.
 *
 * Both codes are systematic: data fragments hold the plain data, so any reader can serve a
 * content whose data fragments are healthy; rebuilding from parity needs the recorded
 * algorithm (NOT_IMPLEMENTED naming it when the addon is missing on the reading machine).
 */
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { OioError } from '../../common/errors';
import { gfEncode, gfReconstruct } from './gf256';
import type { CodecJob } from './codec-worker';

/** Algorithms a content's chunk method may name. */
export type EcAlgo = 'ronomon_cauchy' | 'js_rs_vand';

/** The algorithms this library knows. */
export const EC_ALGOS: readonly EcAlgo[] = ['ronomon_cauchy', 'js_rs_vand'];

/**
 * Encodes and rebuilds one stripe: `data` holds the k data shards (k * cell bytes, shard i at
 * i * cell), `parity` the m parity shards (m * cell bytes). `cell` is a multiple of 8.
 */
export interface StripeCodec {
  readonly algo: EcAlgo;
  /** fills `parity` from `data` */
  encode(k: number, m: number, cell: number, data: Buffer, parity: Buffer): Promise<void>;
  /**
   * Rebuilds the shards `targets` (indexes 0..k+m-1, parity at k + j) in place from the
   * shards `present` (at least k of them).
   */
  reconstruct(k: number, m: number, cell: number, data: Buffer, parity: Buffer, present: number[], targets: number[]): Promise<void>;
}

// --- the native seam ----------------------------------------------------------------------

interface RonomonRs {
  MAX_K: number;
  MAX_M: number;
  create(k: number, m: number): unknown;
  encode(ctx: unknown, sources: number, targets: number, buffer: Buffer, bufferOffset: number, bufferSize: number,
    parity: Buffer, parityOffset: number, paritySize: number, cb: (err?: Error | null) => void): void;
}

let native: RonomonRs | null | undefined;
let nativeError = '';

function loadNative(): RonomonRs | null {
  if (native !== undefined) return native;
  if (process.env.OIO_EC_NATIVE === '0') {
    nativeError = 'disabled by OIO_EC_NATIVE=0';
    return (native = null);
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    native = require('@ronomon/reed-solomon') as RonomonRs;
  } catch (e) {
    nativeError = `@ronomon/reed-solomon did not load: ${(e as Error).message}`;
    native = null;
  }
  return native;
}

/** Why the native codec is not available ('' when it is). */
export function nativeCodecError(): string {
  loadNative();
  return nativeError;
}

class NativeCodec implements StripeCodec {
  readonly algo = 'ronomon_cauchy' as const;
  private readonly contexts = new Map<string, unknown>();

  constructor(private readonly rs: RonomonRs) {}

  private ctx(k: number, m: number): unknown {
    const key = `${k},${m}`;
    let c = this.contexts.get(key);
    if (c === undefined) { c = this.rs.create(k, m); this.contexts.set(key, c); }
    return c;
  }

  private run(k: number, m: number, cell: number, data: Buffer, parity: Buffer, sources: number, targets: number): Promise<void> {
    checkStripe(k, m, cell, data, parity);
    return new Promise((resolve, reject) => {
      this.rs.encode(this.ctx(k, m), sources, targets, data, 0, k * cell, parity, 0, m * cell, (err) => {
        if (err) reject(new OioError('INTERNAL', `reed-solomon: ${err.message}`, { cause: err }));
        else resolve();
      });
    });
  }

  encode(k: number, m: number, cell: number, data: Buffer, parity: Buffer): Promise<void> {
    let sources = 0;
    for (let i = 0; i < k; i++) sources |= 1 << i;
    let targets = 0;
    for (let i = k; i < k + m; i++) targets |= 1 << i;
    return this.run(k, m, cell, data, parity, sources, targets);
  }

  reconstruct(k: number, m: number, cell: number, data: Buffer, parity: Buffer, present: number[], targets: number[]): Promise<void> {
    if (present.length < k) return Promise.reject(new OioError('UNAVAILABLE', `${present.length} fragments present, ${k} needed`));
    if (targets.length === 0) return Promise.resolve();
    let s = 0;
    for (const i of present) s |= 1 << i;
    let t = 0;
    for (const i of targets) t |= 1 << i;
    return this.run(k, m, cell, data, parity, s, t);
  }
}

// --- the portable codec and its worker pool ----------------------------------------------

/** Below this many stripe bytes the portable codec runs inline (a worker round trip costs more). */
const INLINE_BYTES = 64 * 1024;

class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly queue: Array<{ job: CodecJob; resolve: (b: ArrayBuffer) => void; reject: (e: Error) => void }> = [];
  private readonly pending = new Map<number, { resolve: (b: ArrayBuffer) => void; reject: (e: Error) => void; worker: Worker }>();
  private nextId = 1;

  constructor(private readonly size: number) {}

  run(job: Omit<CodecJob, 'id'>): Promise<ArrayBuffer> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job: { ...job, id: this.nextId++ }, resolve, reject });
      this.pump();
    });
  }

  private spawn(): Worker {
    const w = new Worker(path.join(__dirname, 'codec-worker.js'));
    w.unref();
    w.on('message', (msg: { id: number; buf?: ArrayBuffer; error?: string }) => {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      this.idle.push(w);
      if (p) {
        if (msg.error !== undefined || !msg.buf) p.reject(new OioError('INTERNAL', `erasure code worker: ${msg.error ?? 'no answer'}`));
        else p.resolve(msg.buf);
      }
      this.pump();
    });
    w.on('error', (e) => this.drop(w, e));
    w.on('exit', () => this.drop(w, new Error('erasure code worker exited')));
    this.all.push(w);
    return w;
  }

  private drop(w: Worker, e: Error): void {
    const i = this.all.indexOf(w);
    if (i < 0) return;
    this.all.splice(i, 1);
    const j = this.idle.indexOf(w);
    if (j >= 0) this.idle.splice(j, 1);
    for (const [id, p] of this.pending) {
      if (p.worker === w) { this.pending.delete(id); p.reject(new OioError('INTERNAL', `erasure code worker: ${e.message}`)); }
    }
    this.pump();
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const w = this.idle.pop() ?? (this.all.length < this.size ? this.spawn() : undefined);
      if (!w) return;
      const item = this.queue.shift()!;
      this.pending.set(item.job.id, { resolve: item.resolve, reject: item.reject, worker: w });
      w.postMessage(item.job, [item.job.buf]);
    }
  }
}

let pool: WorkerPool | undefined;
function workerPool(): WorkerPool {
  pool ??= new WorkerPool(Math.max(1, Math.min(4, os.availableParallelism?.() ?? os.cpus().length)));
  return pool;
}

function shardViews(k: number, m: number, cell: number, data: Buffer, parity: Buffer): Uint8Array[] {
  return [
    ...Array.from({ length: k }, (_, i) => data.subarray(i * cell, (i + 1) * cell)),
    ...Array.from({ length: m }, (_, i) => parity.subarray(i * cell, (i + 1) * cell)),
  ];
}

class PortableCodec implements StripeCodec {
  readonly algo = 'js_rs_vand' as const;

  private async viaPool(op: CodecJob['op'], k: number, m: number, cell: number, data: Buffer, parity: Buffer, present?: number[], targets?: number[]): Promise<void> {
    const buf = new ArrayBuffer((k + m) * cell);
    const all = new Uint8Array(buf);
    all.set(data.subarray(0, k * cell), 0);
    all.set(parity.subarray(0, m * cell), k * cell);
    const back = new Uint8Array(await workerPool().run({ op, k, m, cell, buf, present, targets }));
    if (op === 'encode') parity.set(back.subarray(k * cell));
    else {
      for (const t of targets ?? []) {
        const src = back.subarray(t * cell, (t + 1) * cell);
        if (t < k) data.set(src, t * cell); else parity.set(src, (t - k) * cell);
      }
    }
  }

  async encode(k: number, m: number, cell: number, data: Buffer, parity: Buffer): Promise<void> {
    checkStripe(k, m, cell, data, parity);
    if ((k + m) * cell < INLINE_BYTES) { gfEncode(k, m, cell, shardViews(k, m, cell, data, parity)); return; }
    await this.viaPool('encode', k, m, cell, data, parity);
  }

  async reconstruct(k: number, m: number, cell: number, data: Buffer, parity: Buffer, present: number[], targets: number[]): Promise<void> {
    checkStripe(k, m, cell, data, parity);
    if (present.length < k) throw new OioError('UNAVAILABLE', `${present.length} fragments present, ${k} needed`);
    if (targets.length === 0) return;
    if ((k + m) * cell < INLINE_BYTES) { gfReconstruct(k, m, cell, shardViews(k, m, cell, data, parity), present, targets); return; }
    await this.viaPool('reconstruct', k, m, cell, data, parity, present, targets);
  }
}

function checkStripe(k: number, m: number, cell: number, data: Buffer, parity: Buffer): void {
  if (cell % 8 !== 0 || data.length < k * cell || parity.length < m * cell) {
    throw new OioError('INTERNAL', `bad stripe: k=${k} m=${m} cell=${cell} data=${data.length} parity=${parity.length}`);
  }
}

const portable = new PortableCodec();
let nativeCodec: NativeCodec | undefined;

/** True when the native codec can take k + m. */
function nativeFits(rs: RonomonRs, k: number, m: number): boolean {
  return k <= rs.MAX_K && m <= rs.MAX_M;
}

/**
 * The algorithm a new content with k + m fragments is written with: the native one when the
 * addon loaded and takes k and m, else the portable one.
 */
export function preferredAlgo(k: number, m: number): EcAlgo {
  const rs = loadNative();
  return rs && nativeFits(rs, k, m) ? 'ronomon_cauchy' : 'js_rs_vand';
}

/**
 * The codec of an algorithm named in a chunk method.
 * @throws OioError NOT_IMPLEMENTED for an unknown algorithm, or `ronomon_cauchy` without the addon
 */
export function codecFor(algo: string, k: number, m: number): StripeCodec {
  if (algo === 'js_rs_vand') {
    if (k + m > 256) throw new OioError('BAD_REQUEST', `js_rs_vand: k + m = ${k + m} above 256`);
    return portable;
  }
  if (algo === 'ronomon_cauchy') {
    const rs = loadNative();
    if (!rs) throw new OioError('NOT_IMPLEMENTED', `erasure code ronomon_cauchy unavailable on this machine (${nativeError})`);
    if (!nativeFits(rs, k, m)) throw new OioError('BAD_REQUEST', `ronomon_cauchy: k <= ${rs.MAX_K} and m <= ${rs.MAX_M} (got k=${k}, m=${m})`);
    nativeCodec ??= new NativeCodec(rs);
    return nativeCodec;
  }
  throw new OioError('NOT_IMPLEMENTED', `unknown erasure code algorithm "${algo}" (known: ${EC_ALGOS.join(', ')})`);
}
