/**
 * @module gateways/s3/object
 * Object handlers: PutObject (streamed, verified, never held in memory), GetObject and
 * HeadObject (ranges, conditional headers, response overrides), DeleteObject and
 * DeleteObjects, CopyObject (chunks linked inside a bucket, streamed across buckets),
 * object tagging, GetObjectAttributes.
 */
import { pipeline, type Readable } from 'node:stream';
import { isNotFound, OioError } from '../../common';
import type { ContentInfo } from '../../common/model';
import { S3Body } from './aws-chunked';
import { algorithmNamed, algorithmOfHeader, ChecksumAlgorithm, checksummer, summed } from './checksum';
import {
  MAX_PUT_BYTES, PROP, S3Request, S3Scope, continueBody, checksumHeaders, checksumProps, storageClassFor, storageClassOf, STORED_HEADERS, bucketInfo, checkKey, checkTags, encodeTags, etagOf, isoDate, metadataFromHeaders,
  httpDate, objectHeaders, readXml, resolveVersion, sendEmpty, sendXml, tagsFromHeader, versionIdOf, versioningOf,
} from './context';
import { S3Error, toS3Error } from './errors';
import { expirationHeader } from './lifecycle';
import { DataKey, Decryptor, encrypted, readKey, through, writeKey } from './sse';
import { deniedDelete } from './policy';
import { aclForWrite, checkOwnerObjectAccess } from './access';
import { bypassGovernance, checkDeletable, checkLockedWriteIntegrity, lockHeaders, lockPropsForWrite } from './object-lock';
import { child, childText, children, doc, el, txt, type XmlNode } from './xml';

/** A byte range of an object (inclusive), or undefined when the header asks for the whole. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined; // syntax S3 ignores (also multiple ranges)
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) throw new S3Error('InvalidRange', 'The requested range is not satisfiable', { ActualObjectSize: String(size) });
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) throw new S3Error('InvalidRange', 'The requested range is not satisfiable', { ActualObjectSize: String(size) });
  return { start, end };
}

const stripQuotes = (s: string): string => s.trim().replace(/^W\//, '').replace(/^"|"$/g, '');

function etagMatches(list: string, etag: string): boolean {
  return list.split(',').some((e) => e.trim() === '*' || stripQuotes(e) === stripQuotes(etag));
}

/**
 * Evaluates If-Match / If-None-Match / If-(Un)Modified-Since (RFC 7232 order, S3 rules);
 * `prefix` is '' for GET/HEAD or 'x-amz-copy-source-' for copies (where every failure is 412).
 */
export function checkConditions(r: S3Request, c: ContentInfo, prefix = ''): void {
  const etag = etagOf(c);
  const lastSec = Math.floor(c.mtime / 1000);
  const ifMatch = r.header(`${prefix}if-match`);
  const ifNone = r.header(`${prefix}if-none-match`);
  const ifMod = r.header(`${prefix}if-modified-since`);
  const ifUnmod = r.header(`${prefix}if-unmodified-since`);
  const date = (v: string) => { const t = Date.parse(v); return Number.isNaN(t) ? undefined : Math.floor(t / 1000); };
  const notModified = () => prefix === '' ? new S3Error('NotModified', 'Not Modified', {}, { etag, 'last-modified': new Date(c.mtime).toUTCString() }) : new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: `${prefix}If-None-Match` });
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, etag)) throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Match' });
  } else if (ifUnmod !== undefined) {
    const t = date(ifUnmod);
    if (t !== undefined && lastSec > t) throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Unmodified-Since' });
  }
  if (ifNone !== undefined) {
    if (etagMatches(ifNone, etag)) throw notModified();
  } else if (ifMod !== undefined) {
    const t = date(ifMod);
    if (t !== undefined && lastSec <= t && t * 1000 <= Date.now()) throw notModified();
  }
}

/** The checksum a request announces: a header value, or an algorithm whose value comes in the trailer. */
function checksumOf(r: S3Request): { checksum?: { algorithm: ChecksumAlgorithm; value: string }; trailerChecksum?: ChecksumAlgorithm } {
  for (const name of Object.keys(r.req.headers)) {
    if (name.startsWith('x-amz-checksum-') && name !== 'x-amz-checksum-algorithm' && name !== 'x-amz-checksum-type') {
      const algorithm = algorithmOfHeader(name)!;
      return { checksum: { algorithm, value: r.header(name)! } };
    }
  }
  const trailer = r.header('x-amz-trailer');
  if (trailer) {
    const algorithm = algorithmOfHeader(trailer.trim());
    if (!algorithm) throw new S3Error('InvalidRequest', `unsupported trailer ${trailer}`);
    return { trailerChecksum: algorithm };
  }
  return {};
}

/** The decoded body length of an upload; MissingContentLength, EntityTooLarge. */
function bodyLength(r: S3Request): number | undefined {
  const decoded = r.header('x-amz-decoded-content-length');
  const raw = r.auth.payload.kind === 'streaming' ? decoded : r.header('content-length');
  if (raw === undefined) {
    if (r.auth.payload.kind === 'streaming' || r.header('transfer-encoding') === undefined) throw new S3Error('MissingContentLength', 'You must provide the Content-Length HTTP header.');
    return undefined;
  }
  if (!/^\d{1,16}$/.test(raw)) throw new S3Error('InvalidArgument', 'invalid Content-Length');
  const n = Number(raw);
  if (n > MAX_PUT_BYTES) throw new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed object size.');
  return n;
}

/**
 * The request body as a verified stream (see aws-chunked.ts). A client that disconnects or a
 * check that fails errors the stream, so the upload reading it is never committed.
 */
export function uploadBody(r: S3Request, computeChecksum?: ChecksumAlgorithm): { body: S3Body; size: number | undefined } {
  const size = bodyLength(r);
  const md5 = r.header('content-md5');
  if (md5 !== undefined && !/^[A-Za-z0-9+/]{22}==$/.test(md5)) throw new S3Error('InvalidDigest', 'The Content-MD5 you specified was invalid.');
  const given = checksumOf(r);
  const algorithm = given.checksum?.algorithm ?? given.trailerChecksum;
  if (computeChecksum !== undefined && algorithm !== undefined && algorithm !== computeChecksum) {
    throw new S3Error('InvalidRequest', `Checksum Type mismatch occurred, expected checksum Type: ${computeChecksum}, actual checksum Type: ${algorithm}`);
  }
  const body = new S3Body({ auth: r.auth, contentMd5: md5, length: size, computeChecksum, ...given });
  continueBody(r.req, r.res);
  pipeline(r.req, body, () => undefined);
  return { body, size };
}

async function removeOlderNullVersions(r: S3Scope, bucket: string, key: string, keep: number): Promise<void> {
  let marker: string | undefined;
  let vmarker: number | undefined;
  for (;;) {
    const page = await r.storage.objectList(bucket, { prefix: key, versions: true, marker, versionMarker: vmarker, limit: 1000 });
    for (const o of page.objects) {
      if (o.name !== key) return;
      if (o.version !== keep && o.properties[PROP.nullVersion] === '1') await r.storage.objectDelete(bucket, key, o.version).catch(() => undefined);
    }
    if (!page.truncated || page.next_marker !== key) return;
    marker = page.next_marker;
    vmarker = page.next_version_marker;
  }
}

/**
 * After a write: in a bucket not Enabled for versioning, the new content is the "null" version.
 * The write's answer names its version only where versioning is Enabled: S3 answers a write of
 * the null version of a Suspended bucket without x-amz-version-id (reads then say "null").
 */
export async function settleVersion(r: S3Request, bucket: string, c: ContentInfo): Promise<Record<string, string>> {
  const state = versioningOf(await bucketInfo(r, bucket));
  if (state === 'Suspended') await removeOlderNullVersions(r, bucket, c.name, c.version);
  return state === 'Enabled' ? { 'x-amz-version-id': versionIdOf(c) } : {};
}

/** Properties that mark a new content as the null version when versioning is not Enabled. */
export async function nullProps(r: S3Request, bucket: string): Promise<Record<string, string>> {
  return versioningOf(await bucketInfo(r, bucket)) === 'Enabled' ? {} : { [PROP.nullVersion]: '1' };
}

/**
 * The conditions of a write (PUT, CompleteMultipartUpload): `If-None-Match` (`*`: no object
 * there; ETags: the current object is none of them) and `If-Match` (`*` or ETags: that object
 * there; none: NoSuchKey). Checked now, and again by meta2 in the write itself (the version
 * returned: the current one, null for none), so two writers cannot both pass.
 */
export async function writeConditions(r: S3Request, bucket: string, key: string): Promise<number | null | undefined> {
  const ifNone = r.header('if-none-match');
  const ifMatch = r.header('if-match');
  if (ifNone === undefined && ifMatch === undefined) return undefined;
  const cur = await r.storage.objectHead(bucket, key).catch((e: unknown) => { if (isNotFound(e) && (e as OioError).code === 'CONTENT_NOT_FOUND') return undefined; throw e; });
  if (ifNone !== undefined && cur && etagMatches(ifNone, etagOf(cur))) throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-None-Match' });
  if (ifMatch !== undefined) {
    if (!cur) throw new S3Error('NoSuchKey', 'The specified key does not exist.');
    if (!etagMatches(ifMatch, etagOf(cur))) throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Match' });
  }
  return cur ? cur.version : null;
}

/** PUT /bucket/key */
export async function putObject(r: S3Request): Promise<void> {
  const bucket = r.bucket!;
  const key = r.key!;
  const meta = metadataFromHeaders(r);
  const tagging = r.header('x-amz-tagging');
  if (tagging !== undefined) meta.properties[PROP.tagging] = encodeTags(tagsFromHeader(tagging));
  const sc = storageClassFor(r.gw, r.header('x-amz-storage-class'));
  Object.assign(meta.properties, sc.props);
  Object.assign(meta.properties, await nullProps(r, bucket));
  const lock = await lockPropsForWrite(r, bucket);
  checkLockedWriteIntegrity(r, lock);
  Object.assign(meta.properties, lock);
  // The object's ACL: the writer owns it (access.ts).
  Object.assign(meta.properties, await aclForWrite(r));
  const sse = await writeKey(r, bucket);
  const expectLatest = await writeConditions(r, bucket, key);
  const { body, size } = uploadBody(r);
  let content: ContentInfo;
  try {
    // The verified checksum stays with the object (GET/HEAD with x-amz-checksum-mode: ENABLED).
    const endProperties = () => checksumProps(body.computed.checksum);
    // Encrypted (SSE-C, SSE-S3): the checked plaintext is encrypted on its way to the rawx.
    const { data, props } = encrypted(sse, body);
    content = await r.storage.objectPut(bucket, key, data, { size, mime: meta.mime ?? 'binary/octet-stream', properties: { ...meta.properties, ...props }, endProperties, policy: sc.policy, expectLatest });
  } catch (e) {
    // The body's own verdict (bad digest, signature, truncated) wins over the upload's echo of it.
    const err = bodyError(body, e, r.req);
    body.destroy();
    throw err;
  }
  const cs = body.computed.checksum;
  const headers: Record<string, string> = { etag: etagOf(content), ...(await settleVersion(r, bucket, content)), ...(await expirationHeader(r, bucket, content)) };
  if (cs) Object.assign(headers, { [`x-amz-checksum-${cs.algorithm}`]: cs.value, 'x-amz-checksum-type': 'FULL_OBJECT' });
  if (sse) Object.assign(headers, sse.headers);
  sendEmpty(r, 200, headers);
}

/** The error that explains a failed upload best: the body's check if it failed, else `e`. */
export function bodyError(body: S3Body, e: unknown, req?: { complete: boolean }): unknown {
  const be = (body as unknown as { errored?: unknown }).errored;
  if (be instanceof S3Error) return be;
  if (e instanceof S3Error) return e;
  // The client went away (the body stream broke off): whatever the upload said, the body is incomplete.
  if (be || (req as { readableAborted?: boolean } | undefined)?.readableAborted) return new S3Error('IncompleteBody', 'The request body terminated unexpectedly');
  const code = (e as { code?: string }).code;
  if (code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || code === 'ECONNABORTED') return new S3Error('IncompleteBody', 'The request body terminated unexpectedly');
  return e;
}

function overrideHeaders(r: S3Request, h: Record<string, string>): void {
  for (const [q, name] of [['response-content-type', 'content-type'], ['response-content-language', 'content-language'], ['response-expires', 'expires'],
    ['response-cache-control', 'cache-control'], ['response-content-disposition', 'content-disposition'], ['response-content-encoding', 'content-encoding']] as const) {
    const v = r.query.get(q);
    if (v !== undefined) h[name] = v;
  }
}

/** GET or HEAD /bucket/key */
export async function getObject(r: S3Request, head: boolean): Promise<void> {
  const bucket = r.bucket!;
  const key = r.key!;
  const versionId = r.query.get('versionId');
  const c = await resolveVersion(r, bucket, key, versionId).catch(async (e: unknown) => {
    if (versionId === undefined && isNotFound(e) && (e as OioError).code === 'CONTENT_NOT_FOUND') throw await noSuchKey(r, bucket, key);
    throw e;
  });
  const versioned = versioningOf(await bucketInfo(r, bucket)) !== undefined;
  if (c.deleted) {
    const h = { 'x-amz-delete-marker': 'true', 'x-amz-version-id': versionIdOf(c), 'last-modified': new Date(c.mtime).toUTCString() };
    if (versionId !== undefined) throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', {}, { ...h, allow: 'DELETE' });
    throw new S3Error('NoSuchKey', 'The specified key does not exist.', {}, h);
  }
  await checkOwnerObjectAccess(r, c, 'READ');
  const sse = readKey(r, c);
  checkConditions(r, c);
  const headers = objectHeaders(c, versioned);
  if (sse) Object.assign(headers, sse.headers);
  if (versionId === undefined) Object.assign(headers, await expirationHeader(r, bucket, c));
  Object.assign(headers, lockHeaders(c));
  overrideHeaders(r, headers);
  const partNumber = r.query.get('partNumber');
  const withChecksum = r.header('x-amz-checksum-mode')?.toUpperCase() === 'ENABLED' && r.header('range') === undefined;
  if (withChecksum && partNumber === undefined) Object.assign(headers, checksumHeaders(c));
  let range = parseRange(r.header('range'), c.size);
  if (partNumber !== undefined) {
    if (!/^\d+$/.test(partNumber) || Number(partNumber) < 1 || Number(partNumber) > 10000) throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', { ArgumentName: 'partNumber' });
    const n = Number(partNumber);
    const sizes = (c.properties[PROP.partSizes] ?? String(c.size)).split(',').map(Number);
    if (n > sizes.length) throw new S3Error('InvalidPart', 'The requested partnumber is not satisfiable');
    if (c.properties[PROP.partsCount] !== undefined) {
      if (range !== undefined) throw new S3Error('InvalidRequest', 'Cannot specify both Range header and partNumber query parameter');
      // A part's own checksum, when the upload kept them.
      const sums = c.properties[PROP.partChecksums]?.split(',');
      const algorithm = storedChecksums(c)[0]?.algorithm;
      if (withChecksum && sums?.[n - 1] && algorithm) headers[`x-amz-checksum-${algorithm}`] = sums[n - 1]!;
      const start = sizes.slice(0, n - 1).reduce((a, b) => a + b, 0);
      range = { start, end: start + sizes[n - 1]! - 1 };
      if (sizes[n - 1] === 0) range = undefined;
    }
  }
  if (range === undefined) {
    headers['content-length'] = String(c.size);
    if (head) { r.res.writeHead(200, headers); r.res.end(); return; }
    await stream(r, bucket, c, 200, headers, undefined, sse);
    return;
  }
  headers['content-length'] = String(range.end - range.start + 1);
  headers['content-range'] = `bytes ${range.start}-${range.end}/${c.size}`;
  if (head) { r.res.writeHead(206, headers); r.res.end(); return; }
  await stream(r, bucket, c, 206, headers, range, sse);
}

/**
 * NoSuchKey for a GET or HEAD of a key without a current version, telling whether that is
 * because its latest version is a delete marker (`x-amz-delete-marker: true`, the marker's
 * version id) or not (`false`).
 */
async function noSuchKey(r: S3Request, bucket: string, key: string): Promise<S3Error> {
  const page = await r.storage.objectList(bucket, { prefix: key, versions: true, limit: 1 });
  const top = page.objects[0];
  const h: Record<string, string> = top?.name === key && top.deleted
    ? { 'x-amz-delete-marker': 'true', 'x-amz-version-id': versionIdOf(top), 'last-modified': httpDate(top.mtime) }
    : { 'x-amz-delete-marker': 'false' };
  return new S3Error('NoSuchKey', 'The specified key does not exist.', {}, h);
}

async function stream(r: S3Request, bucket: string, c: ContentInfo, status: number, headers: Record<string, string>, range?: { start: number; end: number }, sse?: DataKey): Promise<void> {
  if (c.size === 0) { r.res.writeHead(status, headers); r.res.end(); return; }
  const got = await r.storage.objectGet(bucket, c.name, { version: c.version, start: range?.start, end: range?.end, content: c });
  // Encrypted: each byte decrypted at its own place in the object.
  const data = sse ? through(got.stream, new Decryptor(sse, c, range?.start ?? 0)) : got.stream;
  r.res.writeHead(status, headers);
  await new Promise<void>((resolve) => {
    pipeline(data, r.res, (err) => {
      if (err && !r.res.destroyed) r.res.destroy(err);
      if (err) r.log.warn('object stream failed', { code: (err as { code?: string }).code });
      resolve();
    });
  });
}

/** DELETE /bucket/key[?versionId] */
export async function deleteObject(r: S3Request): Promise<void> {
  const out = await deleteOne(r, r.bucket!, r.key!, r.query.get('versionId'), bypassGovernance(r));
  const h: Record<string, string> = {};
  if (out.deleteMarker) h['x-amz-delete-marker'] = 'true';
  if (out.versionId !== undefined) h['x-amz-version-id'] = out.versionId;
  sendEmpty(r, 204, h);
}

/**
 * Deletes `key` (a delete marker where versioned) or one version of it; a version under object
 * lock is AccessDenied (`bypass`: x-amz-bypass-governance-retention, which lifts GOVERNANCE).
 */
export async function deleteOne(r: S3Scope, bucket: string, key: string, versionId: string | undefined, bypass = false): Promise<{ deleteMarker: boolean; versionId?: string }> {
  checkKey(key);
  const versioned = versioningOf(await bucketInfo(r, bucket)) !== undefined;
  if (versionId !== undefined) {
    let c: ContentInfo;
    try { c = await resolveVersion(r, bucket, key, versionId); } catch (e) {
      if (e instanceof S3Error && (e.s3Code === 'NoSuchVersion' || e.s3Code === 'NoSuchKey')) return { deleteMarker: false, versionId };
      throw e;
    }
    checkDeletable(c, bypass);
    await r.storage.objectDelete(bucket, key, c.version).catch((e: unknown) => { if (!isNotFound(e)) throw e; });
    return { deleteMarker: c.deleted, versionId };
  }
  try {
    // Versioned (or suspended): a delete marker, even over a marker or no object at all, as in S3.
    const res = await r.storage.objectDelete(bucket, key, undefined, { marker: versioned });
    if (res.marker && versioningOf(await bucketInfo(r, bucket)) === 'Suspended') {
      // Suspended: the marker is the "null" version, which replaces any older null version.
      const marker = await r.storage.objectSetProperties(bucket, key, { [PROP.nullVersion]: '1' }, [], res.marker.version).catch(() => res.marker!);
      await removeOlderNullVersions(r, bucket, key, res.marker.version);
      return { deleteMarker: true, versionId: versionIdOf(marker) };
    }
    if (res.marker) return { deleteMarker: true, versionId: versioned ? versionIdOf(res.marker) : undefined };
    return { deleteMarker: false };
  } catch (e) {
    if (isNotFound(e) && (e as OioError).code === 'CONTENT_NOT_FOUND') return { deleteMarker: false };
    throw e;
  }
}

/** POST /bucket?delete */
export async function deleteObjects(r: S3Request): Promise<void> {
  const x = await readXml(r);
  if (x!.name !== 'Delete') throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
  const quiet = childText(x!, 'Quiet')?.trim() === 'true';
  const objs = children(x!, 'Object');
  if (objs.length > 1000) throw new S3Error('MalformedXML', 'at most 1000 keys per request');
  if (objs.length === 0) throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
  const out: string[] = [];
  for (const o of objs) {
    const key = childText(o, 'Key');
    const versionId = childText(o, 'VersionId');
    if (key === undefined) throw new S3Error('MalformedXML', 'Object without Key');
    try {
      if (await deniedDelete(r, key, versionId !== undefined)) throw new S3Error('AccessDenied', 'Access Denied');
      const res = await deleteOne(r, r.bucket!, key, versionId, bypassGovernance(r));
      if (!quiet) {
        out.push(el('Deleted', txt('Key', key), versionId !== undefined ? txt('VersionId', versionId) : undefined,
          res.deleteMarker ? txt('DeleteMarker', 'true') : undefined,
          res.deleteMarker && versionId === undefined && res.versionId ? txt('DeleteMarkerVersionId', res.versionId) : undefined));
      }
    } catch (e) {
      const { err } = toS3Error(e);
      out.push(el('Error', txt('Key', key), versionId !== undefined ? txt('VersionId', versionId) : undefined, txt('Code', err.s3Code), txt('Message', err.message)));
    }
  }
  sendXml(r, 200, doc('DeleteResult', ...out));
}

/** The source named by x-amz-copy-source: bucket, key, optional version id. */
export function parseCopySource(v: string): { bucket: string; key: string; versionId?: string } {
  let s = v;
  let versionId: string | undefined;
  const qi = s.indexOf('?');
  if (qi >= 0) {
    const q = new URLSearchParams(s.slice(qi + 1));
    versionId = q.get('versionId') ?? undefined;
    s = s.slice(0, qi);
  }
  let decoded: string;
  try { decoded = decodeURIComponent(s); } catch { throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source' }); }
  if (decoded.startsWith('/')) decoded = decoded.slice(1);
  const i = decoded.indexOf('/');
  if (i <= 0 || i === decoded.length - 1) throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source' });
  return { bucket: decoded.slice(0, i), key: decoded.slice(i + 1), versionId };
}

/** PUT /bucket/key with x-amz-copy-source */
export async function copyObject(r: S3Request): Promise<void> {
  const bucket = r.bucket!;
  const key = r.key!;
  const src = parseCopySource(r.header('x-amz-copy-source')!);
  checkKey(src.key);
  // The source's bucket may be another account's (resolved by access.ts).
  const from: S3Scope = { gw: r.gw, storage: r.sourceStorage ?? r.storage };
  const source = await resolveVersion(from, src.bucket, src.key, src.versionId).catch((e: unknown) => {
    if (e instanceof S3Error && e.s3Code === 'NoSuchVersion' && src.versionId !== undefined) throw e;
    throw e;
  });
  if (source.deleted) throw new S3Error(src.versionId ? 'InvalidRequest' : 'NoSuchKey', src.versionId ? 'The source of a copy request may not specifically refer to a delete marker by version id.' : 'The specified key does not exist.');
  checkConditions(r, source, 'x-amz-copy-source-');
  const directive = (r.header('x-amz-metadata-directive') ?? 'COPY').toUpperCase();
  const tagDirective = (r.header('x-amz-tagging-directive') ?? 'COPY').toUpperCase();
  if (!['COPY', 'REPLACE'].includes(directive)) throw new S3Error('InvalidArgument', 'Unknown metadata directive.', { ArgumentName: 'x-amz-metadata-directive' });
  if (!['COPY', 'REPLACE'].includes(tagDirective)) throw new S3Error('InvalidArgument', 'Unknown tagging directive.', { ArgumentName: 'x-amz-tagging-directive' });
  const sameObject = src.bucket === bucket && src.key === key;
  const destVersioning = versioningOf(await bucketInfo(r, bucket));
  // Encryption: the source's key to read it, the copy's (its request's, or the bucket's default)
  // to write it; either way the data is read, decrypted and encrypted again, never linked.
  const srcKey = readKey(r, source, true);
  const dstKey = await writeKey(r, bucket);
  const unchanged = directive === 'COPY' && tagDirective === 'COPY' && r.header('x-amz-storage-class') === undefined && r.header('x-amz-checksum-algorithm') === undefined && !srcKey && !dstKey;
  if (sameObject && unchanged && src.versionId === undefined && destVersioning !== 'Enabled') {
    throw new S3Error('InvalidRequest', 'This copy request is illegal because it is trying to copy an object to itself without changing the object\'s metadata, storage class, website redirect location or encryption attributes.');
  }
  // The properties the copy must end with.
  const keepUser = (k: string) => k.startsWith('x-amz-meta-') || (STORED_HEADERS as readonly string[]).includes(k) || k === PROP.contentType;
  const props: Record<string, string> = {};
  for (const [k, v] of Object.entries(source.properties)) if (k === PROP.etag || k === PROP.partsCount || k === PROP.partSizes || (directive === 'COPY' && keepUser(k)) || (tagDirective === 'COPY' && k === PROP.tagging)) props[k] = v;
  if (directive === 'COPY' && props[PROP.contentType] === undefined && source.mime) props[PROP.contentType] = source.mime;
  if (directive === 'REPLACE') Object.assign(props, metadataFromHeaders(r).properties);
  if (tagDirective === 'REPLACE') {
    const t = r.header('x-amz-tagging');
    if (t !== undefined) props[PROP.tagging] = encodeTags(tagsFromHeader(t));
  }
  Object.assign(props, await nullProps(r, bucket));
  // The copy is locked as the destination bucket's default (or the request) says, never as its source.
  Object.assign(props, await lockPropsForWrite(r, bucket));
  // A copy does not take its source's ACL: its own (headers, or private to its writer).
  Object.assign(props, await aclForWrite(r));
  // The copy has the class asked for (STANDARD when none, as in S3); its data moves only when
  // that class maps to a policy the source's data is not stored with.
  const sc = storageClassFor(r.gw, r.header('x-amz-storage-class'));
  Object.assign(props, sc.props);
  // The same bytes: the source's checksums hold for the copy. Another algorithm asked for is
  // computed while the data is copied (its value alone is kept, over the whole object).
  const isChecksum = (k: string) => k.startsWith(PROP.checksum) || k === PROP.checksumType || k === PROP.partChecksums;
  for (const [k, v] of Object.entries(source.properties)) if (isChecksum(k)) props[k] = v;
  const asked = algorithmNamed(r.header('x-amz-checksum-algorithm'));
  const recompute = asked !== undefined && source.properties[`${PROP.checksum}${asked}`] === undefined ? asked : undefined;
  if (recompute) for (const k of Object.keys(props)) if (isChecksum(k)) delete props[k];

  let copy: ContentInfo;
  if (src.bucket === bucket && from.storage.account === r.storage.account && !recompute && !srcKey && !dstKey && (sc.policy === undefined || sc.policy === source.policy)) {
    // Same container: a new content on the same chunks (meta2 keeps chunks while referenced).
    const linked = await r.storage.objectLink(bucket, src.key, key, source.version);
    const del = Object.keys(linked.properties).filter((k) => !(k in props));
    copy = await r.storage.objectSetProperties(bucket, key, props, del, linked.version);
  } else {
    const got = source.size === 0 ? undefined : await from.storage.objectGet(src.bucket, src.key, { version: source.version });
    const plain = got && srcKey ? { stream: through(got.stream, new Decryptor(srcKey, source, 0)) } : got;
    const { data, endProperties } = copyData(plain, recompute);
    const out = encrypted(dstKey, data);
    copy = await r.storage.objectPut(bucket, key, out.data, { size: source.size, mime: props[PROP.contentType] ?? source.mime, properties: { ...props, ...out.props }, policy: sc.policy, endProperties });
  }
  const headers: Record<string, string> = { ...(await settleVersion(r, bucket, copy)), ...(await expirationHeader(r, bucket, copy)), ...(dstKey?.headers ?? {}) };
  if (versioningOf(await bucketInfo(from, src.bucket)) !== undefined) headers['x-amz-copy-source-version-id'] = versionIdOf(source);
  sendXml(r, 200, doc('CopyObjectResult', txt('LastModified', isoDate(copy.mtime)), txt('ETag', etagOf(copy)), ...checksumElements(copy)), headers);
}

/**
 * The data a copy writes (the source's stream; none for an empty source) and, when `algorithm`
 * is given, its checksum computed on the way: `endProperties` stores it with the copy (objectPut)
 * and `checksum()` gives it once the copy is written.
 */
export function copyData(got: { stream: Readable } | undefined, algorithm: ChecksumAlgorithm | undefined):
  { data: Readable | Buffer; endProperties: () => Record<string, string>; checksum: () => { algorithm: ChecksumAlgorithm; value: string } | undefined } {
  const sum = algorithm === undefined ? undefined : checksummer(algorithm);
  let value: string | undefined;
  const checksum = () => (sum && algorithm ? { algorithm, value: (value ??= sum.digest()) } : undefined);
  return { data: !got ? Buffer.alloc(0) : sum ? summed(got.stream, sum) : got.stream, endProperties: () => checksumProps(checksum()), checksum };
}

/** GET /bucket/key?tagging */
const ATTRIBUTES = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] as const;
export const CHECKSUM_XML: Record<string, string> = { crc32: 'ChecksumCRC32', crc32c: 'ChecksumCRC32C', crc64nvme: 'ChecksumCRC64NVME', sha1: 'ChecksumSHA1', sha256: 'ChecksumSHA256' };

/** The checksums stored with an object: algorithm, XML element name, base64 value. */
function storedChecksums(c: ContentInfo): Array<{ algorithm: string; xml: string; value: string }> {
  return Object.entries(c.properties).flatMap(([k, value]) => {
    const algorithm = k.startsWith(PROP.checksum) ? k.slice(PROP.checksum.length) : '';
    const xml = CHECKSUM_XML[algorithm];
    return xml ? [{ algorithm, xml, value }] : [];
  });
}

/** An object's checksums as CopyObjectResult and GetObjectAttributes give them: each, then ChecksumType. */
function checksumElements(c: ContentInfo): string[] {
  const sums = storedChecksums(c);
  if (sums.length === 0) return [];
  return [...sums.map((s) => txt(s.xml, s.value)!), txt('ChecksumType', c.properties[PROP.checksumType] ?? 'FULL_OBJECT')!];
}

/**
 * GET /bucket/key?attributes — GetObjectAttributes: the attributes named by
 * `x-amz-object-attributes` (ETag, Checksum, ObjectParts, StorageClass, ObjectSize) without
 * the data; parts paged by `x-amz-max-parts` / `x-amz-part-number-marker`.
 */
export async function getObjectAttributes(r: S3Request): Promise<void> {
  const wanted = (r.header('x-amz-object-attributes') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (wanted.length === 0) throw new S3Error('InvalidArgument', 'The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty', { ArgumentName: 'x-amz-object-attributes' });
  for (const a of wanted) {
    if (!(ATTRIBUTES as readonly string[]).includes(a)) throw new S3Error('InvalidArgument', `Invalid attribute name specified: ${a}`, { ArgumentName: 'x-amz-object-attributes', ArgumentValue: a });
  }
  const maxParts = intHeader(r, 'x-amz-max-parts', 1000);
  const marker = intHeader(r, 'x-amz-part-number-marker', 0);
  const versionId = r.query.get('versionId');
  const c = await resolveVersion(r, r.bucket!, r.key!, versionId);
  const versioned = versioningOf(await bucketInfo(r)) !== undefined;
  if (c.deleted) {
    const h = { 'x-amz-delete-marker': 'true', 'x-amz-version-id': versionIdOf(c), 'last-modified': new Date(c.mtime).toUTCString() };
    if (versionId !== undefined) throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', {}, { ...h, allow: 'DELETE' });
    throw new S3Error('NoSuchKey', 'The specified key does not exist.', {}, h);
  }
  // An object encrypted with a customer key tells its attributes to that key only, as in S3.
  readKey(r, c);
  const has = (a: string) => wanted.includes(a);
  const sums = storedChecksums(c);
  let parts: string | undefined;
  const count = c.properties[PROP.partsCount];
  if (has('ObjectParts') && count !== undefined) {
    const sizes = (c.properties[PROP.partSizes] ?? '').split(',').filter(Boolean).map(Number);
    const partSums = c.properties[PROP.partChecksums]?.split(',');
    const partSumXml = sums[0]?.xml;
    const page = sizes.map((size, i) => ({ n: i + 1, size })).filter((p) => p.n > marker).slice(0, maxParts);
    const truncated = page.length > 0 && page[page.length - 1]!.n < sizes.length;
    parts = el('ObjectParts', txt('PartsCount', count), txt('PartNumberMarker', marker), txt('NextPartNumberMarker', page.length ? page[page.length - 1]!.n : marker),
      txt('MaxParts', maxParts), txt('IsTruncated', truncated),
      ...page.map((p) => el('Part', partSumXml && partSums?.[p.n - 1] ? txt(partSumXml, partSums[p.n - 1]) : undefined, txt('PartNumber', p.n), txt('Size', p.size))));
  }
  const body = doc('GetObjectAttributesResponse',
    has('ETag') ? txt('ETag', etagOf(c).replace(/"/g, '')) : undefined,
    has('Checksum') && sums.length > 0 ? el('Checksum', ...checksumElements(c)) : undefined,
    parts,
    has('StorageClass') ? txt('StorageClass', storageClassOf(c)) : undefined,
    has('ObjectSize') ? txt('ObjectSize', c.size) : undefined);
  const headers: Record<string, string> = { 'last-modified': new Date(c.mtime).toUTCString() };
  if (versioned) headers['x-amz-version-id'] = versionIdOf(c);
  sendXml(r, 200, body, headers);
}

function intHeader(r: S3Request, name: string, dflt: number): number {
  const v = r.header(name);
  if (v === undefined) return dflt;
  if (!/^\d{1,9}$/.test(v.trim())) throw new S3Error('InvalidArgument', `${name} must be a non-negative integer`, { ArgumentName: name, ArgumentValue: v });
  return Number(v.trim());
}

export async function getObjectTagging(r: S3Request): Promise<void> {
  const c = await resolveVersion(r, r.bucket!, r.key!, r.query.get('versionId'));
  if (c.deleted) throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.');
  // A tag set has no order of its own: given by key (as S3 does), not in the order written.
  const tags = [...new URLSearchParams(c.properties[PROP.tagging] ?? '').entries()].sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])));
  const versioned = versioningOf(await bucketInfo(r)) !== undefined;
  sendXml(r, 200, doc('Tagging', el('TagSet', ...tags.map(([k, v]) => el('Tag', txt('Key', k), txt('Value', v))))), versioned ? { 'x-amz-version-id': versionIdOf(c) } : {});
}

/** Parses a <Tagging><TagSet><Tag><Key/><Value/></Tag>…</TagSet></Tagging> body; MalformedXML, InvalidTag. */
export async function readTagging(r: S3Request, max: number): Promise<Array<[string, string]>> {
  return tagsOfXml((await readXml(r))!, max);
}

/** The tags of a parsed <Tagging> document; MalformedXML, InvalidTag. */
export function tagsOfXml(x: XmlNode, max: number): Array<[string, string]> {
  const set = x.name === 'Tagging' ? child(x, 'TagSet') : undefined;
  if (!set) throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
  const tags = children(set, 'Tag').map((t): [string, string] => {
    const k = childText(t, 'Key');
    const v = childText(t, 'Value');
    if (k === undefined || v === undefined) throw new S3Error('MalformedXML', 'Tag without Key or Value');
    return [k, v];
  });
  checkTags(tags, max);
  return tags;
}

/** PUT /bucket/key?tagging */
export async function putObjectTagging(r: S3Request): Promise<void> {
  const tags = await readTagging(r, 10);
  const c = await resolveVersion(r, r.bucket!, r.key!, r.query.get('versionId'));
  if (c.deleted) throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.');
  await r.storage.objectSetProperties(r.bucket!, r.key!, tags.length ? { [PROP.tagging]: encodeTags(tags) } : {}, tags.length ? [] : [PROP.tagging], c.version);
  const versioned = versioningOf(await bucketInfo(r)) !== undefined;
  sendEmpty(r, 200, versioned ? { 'x-amz-version-id': versionIdOf(c) } : {});
}

/** DELETE /bucket/key?tagging */
export async function deleteObjectTagging(r: S3Request): Promise<void> {
  const c = await resolveVersion(r, r.bucket!, r.key!, r.query.get('versionId'));
  await r.storage.objectSetProperties(r.bucket!, r.key!, {}, [PROP.tagging], c.version);
  const versioned = versioningOf(await bucketInfo(r)) !== undefined;
  sendEmpty(r, 204, versioned ? { 'x-amz-version-id': versionIdOf(c) } : {});
}
