/**
 * @module client/remote/meta2
 * Stubs of meta2's routes (one base per container) and the records they exchange; method
 * names equal the handler names (`contentList` <-> route GET /v1/content/list).
 */
import { callJson } from '../../common/http';
import type { ContainerInfo, ContentInfo } from '../../common/model';

/** System values of a container; absent: the namespace default applies. */
export interface ContainerSystem {
  /** default storage policy of the container's contents */
  policy?: string;
  /** versions kept per object: 1 = versioning off, -1 = unlimited, N > 1 = N newest */
  max_versions?: number;
  /** maximum bytes of the container (all versions counted); 0 or absent: no quota */
  quota?: number;
}

/**
 * A container as meta2 shows it. `objects`/`bytes` count every stored version that is not a
 * delete marker (what occupies space and what the quota applies to). Times are epoch ms.
 */
export type { ContainerInfo } from '../../common/model';

export interface ContainerCreateRequest {
  cid: string;
  account: string;
  container: string;
  properties?: Record<string, string>;
  system?: ContainerSystem;
}

export interface ContainerSetRequest {
  cid: string;
  properties?: Record<string, string>;
  /** a null value resets that system value to the namespace default */
  system?: { [K in keyof ContainerSystem]?: ContainerSystem[K] | null };
  /** remove every user property before setting `properties` */
  clear?: boolean;
}

export interface ContentListOptions {
  prefix?: string;
  delimiter?: string;
  /** names (or common prefixes) up to and including this one are skipped */
  marker?: string;
  /** with versions: resume inside `marker`'s versions, below this version */
  version_marker?: number;
  /** default 1000, at most 10,000 */
  limit?: number;
  /** list every version and delete marker, not only the latest visible ones */
  versions?: boolean;
  /** include chunks (otherwise `chunks: []`) */
  chunks?: boolean;
}

export interface ContentListResult {
  objects: ContentInfo[];
  prefixes: string[];
  truncated: boolean;
  /** when truncated: the marker of the next page */
  next_marker?: string;
  /** when truncated and listing versions: the version_marker of the next page */
  next_version_marker?: number;
}

export interface ContentDeleteResult {
  /** the live version deleted (none when only a marker was added) */
  deleted?: ContentInfo;
  marker?: ContentInfo;
}

/** Calls one meta2 service (`addr` = host:port). */
export class Meta2Client {
  /** @param headers sent with every call (the proxy sends the replica set as x-oio-peers) */
  constructor(readonly addr: string, private readonly reqId?: string, private readonly headers?: Record<string, string>, private readonly timeoutMs?: number) {}

  private call<T>(path: string, opts: Parameters<typeof callJson>[2] = {}): Promise<T> {
    return callJson<T>(this.addr, path, { reqId: this.reqId, headers: this.headers, ...(this.timeoutMs ? { timeoutMs: this.timeoutMs } : {}), ...opts });
  }

  /** Creates the container's base. CONTAINER_EXISTS. */
  containerCreate(req: ContainerCreateRequest): Promise<void> {
    return this.call('/v1/container/create', { method: 'POST', body: req });
  }

  /** CONTAINER_NOT_FOUND. */
  containerShow(cid: string): Promise<ContainerInfo> {
    return this.call('/v1/container/show', { query: { cid } });
  }

  containerSet(req: ContainerSetRequest): Promise<void> {
    return this.call('/v1/container/set', { method: 'POST', body: req });
  }

  /** Deletes an empty container (any content, even a delete marker, counts) unless `force`. CONTAINER_NOT_EMPTY. */
  containerDelete(cid: string, force?: boolean): Promise<void> {
    return this.call('/v1/container/delete', { method: 'POST', body: { cid, force } });
  }

  contentList(cid: string, opts: ContentListOptions = {}): Promise<ContentListResult> {
    return this.call('/v1/content/list', {
      query: {
        cid, prefix: opts.prefix, delimiter: opts.delimiter, marker: opts.marker, version_marker: opts.version_marker,
        limit: opts.limit, versions: opts.versions ? 1 : undefined, chunks: opts.chunks ? 1 : undefined,
      },
    });
  }

  /**
   * Stores a content (version assigned when 0); with `expectLatest`, only if the name's latest
   * live version is that one (null: none); with `newest`, as the name's newest version (its
   * version raised above the latest when needed). QUOTA_EXCEEDED, CONTENT_EXISTS, PRECONDITION_FAILED.
   */
  contentCreate(cid: string, content: ContentInfo, expectLatest?: number | null, newest?: boolean): Promise<ContentInfo> {
    return this.call('/v1/content/create', { method: 'POST', body: { cid, content, expect_latest: expectLatest, ...(newest ? { newest } : {}) } });
  }

  /** The latest visible version, or `version`. CONTENT_NOT_FOUND. */
  contentShow(cid: string, path: string, version?: number): Promise<ContentInfo> {
    return this.call('/v1/content/show', { query: { cid, path, version } });
  }

  contentDelete(cid: string, path: string, version?: number, marker?: boolean): Promise<ContentDeleteResult> {
    return this.call('/v1/content/delete', { method: 'POST', body: { cid, path, version, ...(marker ? { marker } : {}) } });
  }

  /** A new content named `dest` sharing the chunks of `path` (rename without copy). */
  contentLink(cid: string, path: string, dest: string, version?: number): Promise<ContentInfo> {
    return this.call('/v1/content/link', { method: 'POST', body: { cid, path, version, dest } });
  }

  contentProperties(cid: string, path: string, change: { set?: Record<string, string>; del?: string[]; version?: number }): Promise<ContentInfo> {
    return this.call('/v1/content/properties', { method: 'POST', body: { cid, path, ...change } });
  }
}
