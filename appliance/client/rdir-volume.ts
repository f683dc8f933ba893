/**
 * @module client/rdir-volume
 * A rawx volume and its rdir as the conscience lists them, and what a rebuilder does with
 * them: find the rdir of a volume (same node, same `tag.vol`), rebuild a lost or wiped index
 * from the volume's chunk files (each carries its reverse links: rawx `GET /v1/chunks`).
 */
import { NotFoundError, OioError, InvalidArgumentError } from '../common';
import type { ServiceInfo } from '../common/model';
import { rawxInfo, rawxList } from './remote/rawx';
import { RdirClient, rdirEntryOf, type RdirEntry } from './remote/rdir';

const hostOf = (addr: string): string => addr.replace(/:\d+$/, '');
const baseName = (p: string): string => p.replace(/\/+$/, '').split('/').pop() ?? p;

/** One volume: its rawx and, when registered, its rdir. */
export interface VolumeServices {
  volume: string;
  rawx: ServiceInfo;
  rdir?: ServiceInfo;
}

/** Every rawx of the list with the rdir of its volume (same host and `tag.vol`). */
export function volumesOf(services: ServiceInfo[]): VolumeServices[] {
  const rdirs = services.filter((s) => s.type === 'rdir');
  return services.filter((s) => s.type === 'rawx').map((rawx) => {
    const volume = String(rawx.tags['tag.vol'] ?? '');
    const rdir = rdirs.find((r) => hostOf(r.addr) === hostOf(rawx.addr) && String(r.tags['tag.vol'] ?? '') === volume);
    return rdir ? { volume, rawx, rdir } : { volume, rawx };
  }).sort((a, b) => (a.rawx.id < b.rawx.id ? -1 : a.rawx.id > b.rawx.id ? 1 : 0));
}

/**
 * The volume named by `name`: a rawx id (`IP:rawx-1`) or address, an rdir id or address, a
 * volume path, or a volume folder name (`rawx-1`, a disk label `oio-1a2b3c4d`) when only one
 * volume has it. SERVICE_NOT_FOUND when none matches, BAD_REQUEST when several do.
 */
export function findVolume(services: ServiceInfo[], name: string): VolumeServices {
  const vols = volumesOf(services);
  const exact = vols.filter((v) => [v.rawx.id, v.rawx.addr, v.rdir?.id, v.rdir?.addr, v.volume].includes(name));
  const found = exact.length ? exact : vols.filter((v) => baseName(v.volume) === name);
  if (found.length === 0) throw new NotFoundError('SERVICE_NOT_FOUND', `no rawx volume "${name}" in the conscience (oio rdir list shows them)`);
  if (found.length > 1) throw new InvalidArgumentError('BAD_REQUEST', `"${name}" names ${found.length} volumes (${found.map((v) => v.rawx.id).join(', ')}): give a rawx id or address`);
  return found[0]!;
}

/** The rdir stub of a volume; SERVICE_NOT_FOUND when no rdir indexes it. */
export function rdirOf(v: VolumeServices): RdirClient {
  if (!v.rdir) throw new NotFoundError('SERVICE_NOT_FOUND', `no rdir registered for volume ${v.volume} (rawx ${v.rawx.id})`);
  return new RdirClient(v.rdir.addr, { volume: v.volume });
}

export interface RdirRebuildReport {
  volume: string;
  /** chunk files found on the volume and pushed */
  pushed: number;
  /** entries of the index that no chunk file backs any more (removed) */
  removed: number;
  durationMs: number;
}

/**
 * Rebuilds the index of a volume from its chunk files: crawls the rawx (`GET /v1/chunks`,
 * pages of `pageSize`), pushes every chunk again, then removes the entries not written since
 * the rebuild began (rdir clock): what remains is exactly what the volume holds, plus what
 * rawx pushed meanwhile. BAD_REQUEST when the rawx and rdir do not serve the same volume.
 * Known gap: a chunk deleted while the crawl already read it may be pushed back after its
 * delete event; the next rebuild removes it.
 */
export async function rebuildRdir(rawxAddr: string, rdirAddr: string, opts: { pageSize?: number; onPage?: (pushed: number) => void } = {}): Promise<RdirRebuildReport> {
  const t0 = Date.now();
  const [rx, rdirInfo] = await Promise.all([rawxInfo(rawxAddr), new RdirClient(rdirAddr).rdirAdminInfo()]);
  if (rx.volume !== rdirInfo.volume) throw new OioError('BAD_REQUEST', `rawx ${rawxAddr} serves ${rx.volume} but rdir ${rdirAddr} indexes ${rdirInfo.volume}`);
  const rdir = new RdirClient(rdirAddr, { volume: rx.volume });
  const since = rdirInfo.time;
  let pushed = 0;
  let marker: string | undefined;
  for (;;) {
    const page = await rawxList(rawxAddr, { marker, limit: opts.pageSize ?? 1000 });
    const entries: RdirEntry[] = page.chunks.map((c) => rdirEntryOf({ ...c.meta, chunkId: c.id }));
    if (entries.length) pushed += (await rdir.rdirPush(entries)).pushed;
    opts.onPage?.(pushed);
    if (!page.truncated || !page.next_marker) break;
    marker = page.next_marker;
  }
  const { removed } = await rdir.rdirAdminClear(since);
  return { volume: rx.volume, pushed, removed, durationMs: Date.now() - t0 };
}
