/**
 * @module client/ec/codec-worker
 * Worker thread body of the portable codec pool: runs GF(2^8) encode / reconstruct of one
 * stripe (k + m shards of `cell` bytes, contiguous in `buf`) and hands the buffer back.
 */
import { parentPort } from 'node:worker_threads';
import { gfEncode, gfReconstruct } from './gf256';

/** A job sent to the worker. */
export interface CodecJob {
  id: number;
  op: 'encode' | 'reconstruct';
  k: number;
  m: number;
  cell: number;
  buf: ArrayBuffer;
  present?: number[];
  targets?: number[];
}

parentPort?.on('message', (job: CodecJob) => {
  try {
    const all = new Uint8Array(job.buf);
    const shards = Array.from({ length: job.k + job.m }, (_, i) => all.subarray(i * job.cell, (i + 1) * job.cell));
    if (job.op === 'encode') gfEncode(job.k, job.m, job.cell, shards);
    else gfReconstruct(job.k, job.m, job.cell, shards, job.present ?? [], job.targets ?? []);
    parentPort!.postMessage({ id: job.id, buf: job.buf }, [job.buf]);
  } catch (e) {
    parentPort!.postMessage({ id: job.id, error: e instanceof Error ? e.message : String(e) });
  }
});
