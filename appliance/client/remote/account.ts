/**
 * @module client/remote/account
 * Stubs of the account service's routes; method names equal the handler names
 * (`accountContainerUpdate` <-> route POST /v1/account/container/update).
 */
import { callJson } from '../../common/http';

export interface AccountInfo { id: string; ctime: number; containers: number; objects: number; bytes: number }

export interface AccountContainers {
  containers: Array<{ name: string; objects: number; bytes: number; mtime: number }>;
  truncated: boolean;
  next_marker?: string;
}

export interface AccountContainerUpdate { id: string; container: string; objects: number; bytes: number; mtime: number; deleted?: boolean }

/** A user (S3 credentials); `secret_key` is only in userCreate/userShow answers. */
export interface UserInfo { access_key: string; secret_key?: string; account: string; ctime: number }

/** A bucket name of the global S3 namespace and its owner account. */
export interface BucketOwner { name: string; account: string; ctime: number }

export class AccountClient {
  /** @param headers sent with every call (the account base's replica set as x-oio-peers) */
  constructor(readonly addr: string, private readonly reqId?: string, private readonly headers?: Record<string, string>) {}

  /** Creates an account (idempotent). */
  accountCreate(id: string): Promise<void> {
    return callJson(this.addr, '/v1/account/create', { method: 'POST', body: { id }, reqId: this.reqId, headers: this.headers });
  }

  /** The account with its usage; ACCOUNT_NOT_FOUND. */
  accountShow(id: string): Promise<AccountInfo> {
    return callJson(this.addr, '/v1/account/show', { query: { id }, reqId: this.reqId, headers: this.headers });
  }

  /** All account ids. */
  accountList(): Promise<string[]> {
    return callJson(this.addr, '/v1/account/list', { reqId: this.reqId, headers: this.headers });
  }

  /** One page of the account's containers (byte order of names); ACCOUNT_NOT_FOUND. */
  accountContainers(id: string, opts: { prefix?: string; marker?: string; limit?: number } = {}): Promise<AccountContainers> {
    return callJson(this.addr, '/v1/account/containers', { query: { id, ...opts }, reqId: this.reqId, headers: this.headers });
  }

  /** Creates a user (keys generated when absent; `replace` overwrites an existing key). */
  userCreate(u: { access_key?: string; secret_key?: string; account: string; replace?: boolean }): Promise<UserInfo> {
    return callJson(this.addr, '/v1/user/create', { method: 'POST', body: u, reqId: this.reqId });
  }

  /** A user with its secret; ACCOUNT_NOT_FOUND. */
  userShow(accessKey: string): Promise<UserInfo> {
    return callJson(this.addr, '/v1/user/show', { query: { access_key: accessKey }, reqId: this.reqId });
  }

  /** Users without secrets (optionally of one account). */
  userList(account?: string): Promise<UserInfo[]> {
    return callJson(this.addr, '/v1/user/list', { query: { account }, reqId: this.reqId });
  }

  /** Deletes a user; ACCOUNT_NOT_FOUND. */
  userDelete(accessKey: string): Promise<void> {
    return callJson(this.addr, '/v1/user/delete', { method: 'POST', body: { access_key: accessKey }, reqId: this.reqId });
  }

  /** Reserves a bucket name for `account` unless taken: the owner (another account when taken). */
  bucketReserve(name: string, account: string): Promise<BucketOwner> {
    return callJson(this.addr, '/v1/bucket/reserve', { method: 'POST', body: { name, account }, reqId: this.reqId, headers: this.headers });
  }

  /** Releases a bucket name held by `account`. */
  bucketRelease(name: string, account: string): Promise<void> {
    return callJson(this.addr, '/v1/bucket/release', { method: 'POST', body: { name, account }, reqId: this.reqId, headers: this.headers });
  }

  /** The owner of a bucket name; CONTAINER_NOT_FOUND when not reserved. */
  bucketShow(name: string): Promise<BucketOwner> {
    return callJson(this.addr, '/v1/bucket/show', { query: { name }, reqId: this.reqId, headers: this.headers });
  }

  /** Records a container's usage (absolute values; an older mtime is ignored). */
  accountContainerUpdate(u: AccountContainerUpdate): Promise<void> {
    return callJson(this.addr, '/v1/account/container/update', { method: 'POST', body: u, reqId: this.reqId, headers: this.headers });
  }
}
