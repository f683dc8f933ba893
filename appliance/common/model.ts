/**
 * @module common/model
 * The records that cross service boundaries (JSON on the wire), shared by services and the
 * client library so both ends agree on one shape.
 */

/** Tags and stats of a service as the conscience stores them (OpenIO `tag.*` / `stat.*`). */
export type ServiceTags = Record<string, string | number | boolean>;

/** What an agent registers (every few seconds) for one service. */
export interface ServiceRegistration {
  /** service type id: rawx, meta0, meta1, meta2, account, rdir, proxy, conscience, ... */
  type: string;
  /** host:port the service answers on */
  addr: string;
  /** stable id (a rawx volume keeps its id if its port changes); defaults to addr */
  id?: string;
  /** dotted location, 1 to 4 words (room.rack.host.vol); empty: derived from addr */
  loc?: string;
  /** slots the service belongs to; the type itself is always one */
  slots?: string[];
  /** tag.up, tag.vol, stat.cpu, stat.io, stat.space, ... */
  tags: ServiceTags;
}

/** A service as listed in the score bulletin. */
export interface ServiceInfo extends Required<Pick<ServiceRegistration, 'type' | 'addr' | 'id' | 'loc' | 'slots' | 'tags'>> {
  /** put score 0..100: where new data goes */
  score: number;
  /** get score 0..100: order of replicas for reads */
  scoreGet: number;
  /** a locked score is not recomputed */
  locked: boolean;
  /** epoch ms of the last registration */
  mtime: number;
}

/** The bulletin clients fetch and cache. */
export interface Bulletin {
  ns: string;
  /** epoch ms when the conscience built it */
  time: number;
  services: ServiceInfo[];
}

/** One chunk (replica or fragment) of a content. */
export interface ChunkInfo {
  /** http://host:port/<CHUNK_ID> */
  url: string;
  /** metachunk position: "0", "1" (replicas share it); "0.3" for EC fragments */
  pos: string;
  /** bytes of the chunk; for an EC fragment, bytes of its metachunk (as OpenIO records it) */
  size: number;
  /** uppercase hex MD5 of the chunk's bytes */
  hash: string;
  /** get score of the chunk's rawx, added by the proxy when it answers (reads try best first) */
  score?: number;
}

/** A content (one version of an object). */
export interface ContentInfo {
  id: string;
  name: string;
  /** microseconds since the epoch */
  version: number;
  size: number;
  /** uppercase hex MD5 of the whole content (empty when unknown, e.g. linked parts) */
  hash: string;
  mime: string;
  policy: string;
  /** "plain/nb_copy=3" etc., copied from the policy's data security */
  chunkMethod: string;
  ctime: number;
  mtime: number;
  /** a delete marker (versioned container) */
  deleted: boolean;
  properties: Record<string, string>;
  chunks: ChunkInfo[];
}

/** Namespace information served by the conscience (`oio cluster show`). */
export interface NamespaceInfo {
  ns: string;
  chunkSize: number;
  storagePolicy: string;
  storagePolicies: Record<string, string>;
  dataSecurity: Record<string, string>;
  pools: Record<string, PoolSpec>;
  scoreExpr: Record<string, { put: string; get: string }>;
  scoreTimeoutMs: number;
  scoreVariationBound: number;
  maxVersions: number;
  bulletinRefreshMs: number;
  /** dynamic policies by size, "DEFAULT,POLICY:THRESHOLD,..." ('' : none) */
  autoStoragePolicies?: string;
  /** an EC write needs k + this many fragments stored */
  ecQuorumExtra?: number;
}

export interface PoolTarget {
  count: number;
  /** slots consumed in order (fallback) */
  slots: string[];
}

export interface PoolSpec {
  targets: PoolTarget[];
  /** minimum distance between chosen services (default 1) */
  min_dist?: number;
  /** distance the pool tries to reach (default 4) */
  max_dist?: number;
  /** below this distance a warning is emitted (default 0: never) */
  warn_dist?: number;
  /** prefer services close to each other */
  nearby_mode?: boolean;
}

/** The proxy's answer to content/prepare: where each metachunk goes. */
export interface PrepareAnswer {
  policy: string;
  chunkMethod: string;
  chunkSize: number;
  nbCopy: number;
  /** chunks that must be written for the upload to succeed (replicas: a majority; EC: k + ns.ec_quorum_extra) */
  quorum: number;
  chunks: Array<{ pos: string; urls: string[] }>;
}

/** One page of a content listing. */
export interface ContentList {
  objects: ContentInfo[];
  prefixes: string[];
  truncated: boolean;
  next_marker?: string;
  /** with versions: the version of next_marker where the page stopped (pass back as versionMarker) */
  next_version_marker?: number;
}

export interface ContainerInfo {
  cid: string;
  account: string;
  container: string;
  ctime: number;
  mtime: number;
  properties: Record<string, string>;
  system: { policy?: string; max_versions?: number; quota?: number };
  objects: number;
  bytes: number;
}
