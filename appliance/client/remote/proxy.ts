/**
 * @module client/remote/proxy
 * Stubs of the proxy's REST metadata API (method names = proxy handler names).
 */
import { callJson } from '../../common/http';
import type { AccountInfo, BucketOwner, UserInfo } from './account';
import type { ContainerInfo, ContentInfo, ContentList, NamespaceInfo, PrepareAnswer, ServiceInfo } from '../../common/model';

export interface ContainerListPage { containers: Array<{ name: string; objects: number; bytes: number; mtime: number; ctime?: number }>; truncated: boolean; next_marker?: string }

export type { AccountInfo, BucketOwner, UserInfo };

export class ProxyClient {
  constructor(readonly addr: string, private readonly reqId?: string) {}

  private get<T>(path: string, query: Record<string, string | number | boolean | undefined>): Promise<T> {
    return callJson<T>(this.addr, path, { query, reqId: this.reqId });
  }

  private post<T>(path: string, body: unknown): Promise<T> {
    return callJson<T>(this.addr, path, { method: 'POST', body, reqId: this.reqId });
  }

  withReqId(reqId: string): ProxyClient { return new ProxyClient(this.addr, reqId); }

  containerCreate(b: { account: string; container: string; properties?: Record<string, string>; system?: ContainerInfo['system'] }): Promise<void> { return this.post('/v1/container/create', b); }
  containerShow(account: string, container: string): Promise<ContainerInfo> { return this.get('/v1/container/show', { account, container }); }
  containerSet(b: { account: string; container: string; properties?: Record<string, string>; system?: ContainerInfo['system']; clear?: boolean }): Promise<void> { return this.post('/v1/container/set', b); }
  containerDelete(b: { account: string; container: string; force?: boolean }): Promise<void> { return this.post('/v1/container/delete', b); }
  containerList(q: { account: string; prefix?: string; marker?: string; limit?: number }): Promise<ContainerListPage> { return this.get('/v1/container/list', q); }
  accountShow(account: string): Promise<AccountInfo> { return this.get('/v1/account/show', { account }); }
  accountList(): Promise<string[]> { return this.get('/v1/account/list', {}); }
  userCreate(b: { access_key?: string; secret_key?: string; account: string; replace?: boolean }): Promise<UserInfo> { return this.post('/v1/user/create', b); }
  bucketReserve(name: string, account: string): Promise<BucketOwner> { return this.post('/v1/bucket/reserve', { name, account }); }
  bucketRelease(name: string, account: string): Promise<void> { return this.post('/v1/bucket/release', { name, account }); }
  bucketShow(name: string): Promise<BucketOwner> { return this.get('/v1/bucket/show', { name }); }
  userShow(accessKey: string): Promise<UserInfo> { return this.get('/v1/user/show', { access_key: accessKey }); }
  userList(account?: string): Promise<UserInfo[]> { return this.get('/v1/user/list', { account }); }
  userDelete(accessKey: string): Promise<void> { return this.post('/v1/user/delete', { access_key: accessKey }); }
  contentPrepare(b: { account: string; container: string; path: string; size?: number; policy?: string; pos?: number; count?: number; avoid?: string[]; degraded?: boolean }): Promise<PrepareAnswer> { return this.post('/v1/content/prepare', b); }
  contentCreate(b: { account: string; container: string; content: ContentInfo; expect_latest?: number | null; newest?: boolean }): Promise<ContentInfo> { return this.post('/v1/content/create', b); }
  contentShow(q: { account: string; container: string; path: string; version?: string | number }): Promise<ContentInfo> { return this.get('/v1/content/show', q); }
  contentList(q: { account: string; container: string; prefix?: string; delimiter?: string; marker?: string; version_marker?: string | number; limit?: number; versions?: boolean; chunks?: boolean }): Promise<ContentList> {
    return this.get('/v1/content/list', { ...q, versions: q.versions ? 1 : undefined, chunks: q.chunks ? 1 : undefined });
  }
  contentDelete(b: { account: string; container: string; path: string; version?: string | number; marker?: boolean }): Promise<{ deleted?: ContentInfo; marker?: ContentInfo }> { return this.post('/v1/content/delete', b); }
  contentLink(b: { account: string; container: string; path: string; version?: string | number; dest: string }): Promise<ContentInfo> { return this.post('/v1/content/link', b); }
  contentProperties(b: { account: string; container: string; path: string; version?: string | number; set?: Record<string, string>; del?: string[] }): Promise<ContentInfo> { return this.post('/v1/content/properties', b); }
  conscienceInfo(): Promise<NamespaceInfo> { return this.get('/v1/conscience/info', {}); }
  conscienceList(type?: string): Promise<ServiceInfo[]> { return this.get('/v1/conscience/list', { type }); }
  conscienceLock(type: string, id: string, score?: number): Promise<void> { return this.post('/v1/conscience/lock', { type, id, score }); }
  conscienceUnlock(type: string, id: string): Promise<void> { return this.post('/v1/conscience/unlock', { type, id }); }
}
