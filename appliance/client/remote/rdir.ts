/**
 * @module client/remote/rdir
 * Stubs of the rdir routes (appliance/API.md, rdir section); method names equal the handler
 * names (`rdirPush` <-> POST /v1/rdir/push). One rdir indexes one rawx volume. Also the one
 * mapping from a chunk's own metadata (what rawx stores) to an rdir entry, used by the rawx
 * feed and by `oio rdir rebuild`.
 */
import { callJson, type ChunkMeta } from '../../common';

/** One chunk of the volume as the rdir keeps it (key: container_id, content_id, chunk_id). */
export interface RdirEntry {
  container_id: string;
  content_id: string;
  chunk_id: string;
  /** metachunk position: "0", "1"; "0.3" for an EC fragment */
  pos: string;
  /** bytes of chunk data */
  size: number;
  /** uppercase hex MD5 of the chunk's bytes */
  hash: string;
  /** epoch ms when rawx stored the chunk */
  mtime: number;
  content_path: string;
  content_version: number;
  policy: string;
  chunk_method: string;
}

export interface RdirFetchPage {
  chunks: RdirEntry[];
  truncated: boolean;
  /** `CONTAINER_ID/CONTENT_ID/CHUNK_ID` of the last entry, when truncated */
  next_marker?: string;
}

export interface RdirStatus {
  volume: string;
  chunks: { total: number; bytes: number };
  containers: Record<string, { total: number; bytes: number }>;
}

export interface RdirInfo {
  id: string;
  type: 'rdir';
  addr: string;
  volume: string;
  /** the rdir's clock, epoch ms (a rebuild clears what it did not push since then) */
  time: number;
}

/** The rdir entry of a chunk, from the metadata stored in the chunk file. */
export function rdirEntryOf(meta: ChunkMeta): RdirEntry {
  return {
    container_id: meta.containerId, content_id: meta.contentId, chunk_id: meta.chunkId, pos: meta.chunkPos,
    size: meta.chunkSize, hash: meta.chunkHash, mtime: meta.mtime, content_path: meta.contentPath,
    content_version: meta.contentVersion, policy: meta.contentPolicy, chunk_method: meta.contentChunkMethod,
  };
}

export class RdirClient {
  /** @param volume when given, sent as `vol` and checked by the rdir (it serves that volume only) */
  constructor(readonly addr: string, private readonly opts: { volume?: string; reqId?: string; timeoutMs?: number } = {}) {}

  private call<T>(path: string, o: { method?: string; query?: Record<string, string | number | undefined>; body?: unknown } = {}): Promise<T> {
    return callJson<T>(this.addr, path, { ...o, query: { ...(o.query ?? {}), vol: this.opts.volume }, reqId: this.opts.reqId, timeoutMs: this.opts.timeoutMs });
  }

  /** Records chunks stored on the volume; resolves with how many were written. BAD_REQUEST. */
  rdirPush(chunks: RdirEntry[]): Promise<{ pushed: number }> {
    return this.call('/v1/rdir/push', { method: 'POST', body: { chunks } });
  }

  /** Forgets chunks (by chunk id); resolves with how many rows went. BAD_REQUEST. */
  rdirDelete(chunkIds: string[]): Promise<{ deleted: number }> {
    return this.call('/v1/rdir/delete', { method: 'POST', body: { chunks: chunkIds.map((chunk_id) => ({ chunk_id })) } });
  }

  /** One page of the index in (container, content, chunk) order. BAD_REQUEST. */
  rdirFetch(opts: { marker?: string; limit?: number; containerId?: string } = {}): Promise<RdirFetchPage> {
    return this.call('/v1/rdir/fetch', { query: { marker: opts.marker, limit: opts.limit, container_id: opts.containerId } });
  }

  /** Every entry (all pages). */
  async rdirFetchAll(opts: { containerId?: string } = {}): Promise<RdirEntry[]> {
    const out: RdirEntry[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await this.rdirFetch({ ...opts, marker, limit: 10_000 });
      out.push(...page.chunks);
      if (!page.truncated || !page.next_marker) return out;
      marker = page.next_marker;
    }
  }

  /** Counts per volume and per container. */
  rdirStatus(): Promise<RdirStatus> {
    return this.call('/v1/rdir/status');
  }

  /** id, address, volume and clock of the rdir. */
  rdirAdminInfo(): Promise<RdirInfo> {
    return this.call('/v1/rdir/admin/info');
  }

  /** Removes every entry, or those last written before `before` (epoch ms, rdir clock). */
  rdirAdminClear(before?: number): Promise<{ removed: number }> {
    return this.call('/v1/rdir/admin/clear', { method: 'POST', body: before === undefined ? {} : { before } });
  }
}
