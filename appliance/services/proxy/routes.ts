/**
 * @module services/proxy/routes
 * The proxy's route table: the REST metadata API every client uses (OpenIO
 * `proxy/m2_actions.c`). Names in the body/query, never CIDs: the proxy resolves them.
 */
import { HttpService, RouteCtx } from '../../common';
import type { ChooseRequest } from '../../client/remote/conscience';
import { ConscienceClient } from '../../client/remote/conscience';
import { ProxyBackend } from './backend';

type Q = Record<string, string>;
const q = (ctx: RouteCtx): Q => Object.fromEntries(ctx.query.entries());

export function registerRoutes(http: HttpService, b: ProxyBackend, conscience: () => ConscienceClient): void {
  // --- containers ---
  /** Creates a container: account entry, meta1 reference with a linked meta2, meta2 base. */
  http.route('POST', '/v1/container/create', async (c) => b.containerCreate(await c.json(), c.reqId));
  /** Container properties, system settings (policy, max_versions, quota) and usage. */
  http.route('GET', '/v1/container/show', (c) => b.containerShow(q(c), c.reqId));
  /** Sets properties and/or system settings. */
  http.route('POST', '/v1/container/set', async (c) => b.containerSet(await c.json(), c.reqId));
  /** Deletes an empty container (force: even if not empty). */
  http.route('POST', '/v1/container/delete', async (c) => b.containerDelete(await c.json(), c.reqId));
  /** Containers of an account: ?account=&prefix=&marker=&limit= */
  http.route('GET', '/v1/container/list', (c) => { const x = q(c); return b.containerList({ ...x, limit: x.limit ? Number(x.limit) : undefined }, c.reqId); });
  // --- accounts ---
  http.route('GET', '/v1/account/show', (c) => b.accountShow(q(c), c.reqId));
  http.route('GET', '/v1/account/list', (c) => b.accountList(c.reqId));
  // --- users (S3 credentials, forwarded to the account service; secrets never logged) ---
  /** { access_key?, secret_key?, account, replace? } -> the user with its secret */
  http.route('POST', '/v1/user/create', async (c) => b.userCreate(await c.json(), c.reqId));
  /** ?access_key= -> the user with its secret (the S3 gateway's signature check) */
  http.route('GET', '/v1/user/show', (c) => b.userShow(q(c), c.reqId));
  /** ?account= -> users without secrets */
  http.route('GET', '/v1/user/list', (c) => b.userList(q(c), c.reqId));
  http.route('POST', '/v1/user/delete', async (c) => b.userDelete(await c.json(), c.reqId));
  // --- the global S3 bucket namespace (forwarded to the account service) ---
  /** { name, account } -> { name, account, ctime }: the owner (another account when taken) */
  http.route('POST', '/v1/bucket/reserve', async (c) => b.bucketReserve(await c.json(), c.reqId));
  /** { name, account } -> 204 (only the owner's release does anything) */
  http.route('POST', '/v1/bucket/release', async (c) => b.bucketRelease(await c.json(), c.reqId));
  /** ?name= -> { name, account, ctime }; CONTAINER_NOT_FOUND when not reserved */
  http.route('GET', '/v1/bucket/show', (c) => b.bucketShow(q(c), c.reqId));
  // --- contents ---
  /** Chooses rawx targets for the metachunks of an upload (data then goes client -> rawx). */
  http.route('POST', '/v1/content/prepare', async (c) => b.contentPrepare(await c.json(), c.reqId));
  /** Commits a content whose chunks were written. */
  http.route('POST', '/v1/content/create', async (c) => b.contentCreate(await c.json(), c.reqId));
  /** A content with its chunks, each with its rawx get score. */
  http.route('GET', '/v1/content/show', (c) => b.contentShow(q(c), c.reqId));
  /** ?account&container&prefix&delimiter&marker&limit&versions */
  http.route('GET', '/v1/content/list', (c) => b.contentList(q(c), c.reqId));
  http.route('POST', '/v1/content/delete', async (c) => b.contentDelete(await c.json(), c.reqId));
  /** A new name for the same chunks (no data copied). */
  http.route('POST', '/v1/content/link', async (c) => b.contentLink(await c.json(), c.reqId));
  http.route('POST', '/v1/content/properties', async (c) => b.contentProperties(await c.json(), c.reqId));
  // --- conscience (forwarded) ---
  http.route('GET', '/v1/conscience/info', () => b.ns);
  http.route('GET', '/v1/conscience/list', (c) => conscience().conscienceList(c.query.get('type') ?? undefined));
  http.route('GET', '/v1/conscience/bulletin', () => conscience().conscienceBulletin());
  http.route('POST', '/v1/conscience/register', async (c) => conscience().conscienceRegister(await c.json()));
  http.route('POST', '/v1/conscience/lock', async (c) => { const x = await c.json<{ type: string; id: string; score?: number }>(); return conscience().conscienceLock(x.type, x.id, x.score); });
  http.route('POST', '/v1/conscience/unlock', async (c) => { const x = await c.json<{ type: string; id: string }>(); return conscience().conscienceUnlock(x.type, x.id); });
  http.route('POST', '/v1/lb/choose', async (c) => conscience().lbChoose(await c.json<ChooseRequest>()));
}
