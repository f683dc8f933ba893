/**
 * @module gateways/s3/multipart
 * Multipart uploads. An upload is a hidden, empty object `<RESERVED>mpu/<uploadId>` holding the
 * key and the metadata to apply; part N is the hidden object `<RESERVED>mpu/<uploadId>/<N>`
 * (five digits) in the same bucket. Completion creates the object from the parts' chunks
 * (ObjectStorage.objectConcat: no data copied) and then deletes the part objects, whose chunks
 * meta2 keeps because the new object references them. Abort deletes the parts and their chunks.
 * An upload created with a checksum algorithm keeps each part's checksum as a property of the
 * part, and the object gets the COMPOSITE or FULL_OBJECT checksum made from them (checksum.ts).
 */
import { createHash } from 'node:crypto';
import { isNotFound, OioError, randomHex } from '../../common';
import type { ContentInfo } from '../../common/model';
import {
  MPU_PREFIX, PROP, S3Request, S3Scope, bucketInfo, checksumProps, etagOf, isoDate, metadataFromHeaders, readXml, sendEmpty, sendXml, storageClassFor, storageClassOf, tagsFromHeader, encodeTags,
  versionIdOf, versioningOf,
} from './context';
import { CHECKSUM_ALGORITHMS, algorithmNamed, ChecksumAlgorithm, ChecksumType, multipartChecksum, typeAllowed } from './checksum';
import { S3Error } from './errors';
import { checkLockedWriteIntegrity, lockPropsForWrite } from './object-lock';
import { Decryptor, encrypted, isEncrypted, isSseS3, readKey, through, writeKey } from './sse';
import { CHECKSUM_XML, bodyError, checkConditions, copyData, nullProps, parseCopySource, settleVersion, uploadBody, writeConditions } from './object';
import { resolveVersion, checkKey } from './context';
import { aclForWrite } from './access';
import { storedAcl } from './acl';
import { children, childText, doc, el, txt } from './xml';

export const MIN_PART_BYTES = 5 * 1024 * 1024;
export const MAX_PARTS = 10_000;

const uploadName = (id: string) => `${MPU_PREFIX}${id}`;
const partPrefix = (id: string) => `${MPU_PREFIX}${id}/`;
const partName = (id: string, n: number) => `${partPrefix(id)}${String(n).padStart(5, '0')}`;

function uploadIdOf(r: S3Request): string {
  const id = r.query.get('uploadId') ?? '';
  if (!/^[0-9a-f]{32}$/.test(id)) throw new S3Error('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { UploadId: id });
  return id;
}

/** The upload's record; NoSuchUpload when absent or for another key. */
async function upload(r: S3Request, id: string): Promise<ContentInfo> {
  let c: ContentInfo;
  try { c = await r.storage.objectHead(r.bucket!, uploadName(id)); } catch (e) {
    if (isNotFound(e) && (e as OioError).code === 'CONTENT_NOT_FOUND') throw new S3Error('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { UploadId: id });
    throw e;
  }
  if (c.properties[PROP.uploadKey] !== r.key) throw new S3Error('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { UploadId: id });
  return c;
}

function partNumberOf(r: S3Request): number {
  const v = r.query.get('partNumber') ?? '';
  if (!/^\d{1,5}$/.test(v) || Number(v) < 1 || Number(v) > MAX_PARTS) throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', { ArgumentName: 'partNumber', ArgumentValue: v });
  return Number(v);
}

/** Every version of every name under `prefix` (parts overwritten in a versioned bucket included). */
async function deleteAllUnder(r: S3Scope, bucket: string, prefix: string): Promise<void> {
  for (;;) {
    const page = await r.storage.objectList(bucket, { prefix, versions: true, limit: 1000 });
    if (page.objects.length === 0) return;
    for (const o of page.objects) await r.storage.objectDelete(bucket, o.name, o.version).catch((e: unknown) => { if (!isNotFound(e)) throw e; });
    if (!page.truncated) return;
  }
}

/** Aborts upload `id` (its record is `version`): its parts go, then its record (also the lifecycle's AbortIncompleteMultipartUpload). */
export async function abortUpload(r: S3Scope, bucket: string, id: string, version: number): Promise<void> {
  await deleteAllUnder(r, bucket, partPrefix(id));
  await r.storage.objectDelete(bucket, uploadName(id), version).catch(() => undefined);
}

/** The checksum algorithm and type CreateMultipartUpload asks for; InvalidRequest. */
function uploadChecksumOf(r: S3Request): { algorithm: ChecksumAlgorithm; type: ChecksumType } | undefined {
  const t = r.header('x-amz-checksum-type')?.trim().toUpperCase();
  if (t !== undefined && t !== 'COMPOSITE' && t !== 'FULL_OBJECT') throw new S3Error('InvalidRequest', 'Value for x-amz-checksum-type header is invalid.');
  const algorithm = algorithmNamed(r.header('x-amz-checksum-algorithm'));
  if (algorithm === undefined) {
    if (t !== undefined) throw new S3Error('InvalidRequest', 'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.');
    return undefined;
  }
  const type: ChecksumType = t ?? (algorithm === 'crc64nvme' ? 'FULL_OBJECT' : 'COMPOSITE');
  if (!typeAllowed(algorithm, type)) throw new S3Error('InvalidRequest', `The ${type} checksum type cannot be used with the ${algorithm} checksum algorithm.`);
  return { algorithm, type };
}

/** The checksum algorithm an upload was created with. */
const algorithmOf = (up: ContentInfo): ChecksumAlgorithm | undefined => up.properties[PROP.uploadChecksum] as ChecksumAlgorithm | undefined;

/** The storage policy of an upload's parts: its storage class's (undefined: the bucket's). */
const policyOf = (r: S3Request, up: ContentInfo): string | undefined => storageClassFor(r.gw, up.properties[PROP.storageClass]).policy;

/** POST /bucket/key?uploads */
export async function createMultipartUpload(r: S3Request): Promise<void> {
  const bucket = r.bucket!;
  const key = r.key!;
  const meta = metadataFromHeaders(r);
  const tagging = r.header('x-amz-tagging');
  if (tagging !== undefined) meta.properties[PROP.tagging] = encodeTags(tagsFromHeader(tagging));
  const checksum = uploadChecksumOf(r);
  Object.assign(meta.properties, storageClassFor(r.gw, r.header('x-amz-storage-class')).props);
  // The object's lock (headers, else the bucket's default) is decided now and given at completion.
  Object.assign(meta.properties, await lockPropsForWrite(r, bucket));
  // Encrypted: the record keeps how (a customer key must come with every part; a key of the
  // gateway is made now and kept wrapped); each part gets its own IV.
  const sse = await writeKey(r, bucket);
  if (sse) Object.assign(meta.properties, sse.props);
  // The object's ACL, given at completion with the rest (the writer owns it: access.ts).
  Object.assign(meta.properties, await aclForWrite(r));
  const id = randomHex(16);
  await r.storage.objectConcat(bucket, uploadName(id), [], {
    mime: meta.mime ?? 'binary/octet-stream',
    properties: {
      ...meta.properties, [PROP.uploadKey]: key, [PROP.uploadInitiated]: String(Date.now()),
      ...(checksum ? { [PROP.uploadChecksum]: checksum.algorithm, [PROP.uploadChecksumType]: checksum.type } : {}),
    },
  });
  const headers: Record<string, string> = checksum ? { 'x-amz-checksum-algorithm': checksum.algorithm.toUpperCase(), 'x-amz-checksum-type': checksum.type } : {};
  if (sse) Object.assign(headers, sse.headers);
  sendXml(r, 200, doc('InitiateMultipartUploadResult', txt('Bucket', bucket), txt('Key', key), txt('UploadId', id)), headers);
}

/** PUT /bucket/key?partNumber&uploadId (with x-amz-copy-source: UploadPartCopy) */
export async function uploadPart(r: S3Request): Promise<void> {
  const id = uploadIdOf(r);
  const n = partNumberOf(r);
  const copySource = r.header('x-amz-copy-source');
  const up = await upload(r, id);
  if (copySource !== undefined) { await uploadPartCopy(r, id, n, copySource, up); return; }
  checkLockedWriteIntegrity(r, up.properties);
  const sse = readKey(r, up);
  // An upload created with a checksum algorithm keeps each part's checksum (computed when the part has none).
  const { body, size } = uploadBody(r, algorithmOf(up));
  let part: ContentInfo;
  try {
    const { data, props } = encrypted(sse, body);
    part = await r.storage.objectPut(r.bucket!, partName(id, n), data, { size, mime: 'application/octet-stream', properties: props, policy: policyOf(r, up), endProperties: () => checksumProps(body.computed.checksum) });
  } catch (e) {
    const err = bodyError(body, e, r.req);
    body.destroy();
    throw err;
  }
  const h: Record<string, string> = { etag: etagOf(part) };
  const cs = body.computed.checksum;
  if (cs) h[`x-amz-checksum-${cs.algorithm}`] = cs.value;
  if (sse) Object.assign(h, sse.headers);
  sendEmpty(r, 200, h);
}

async function uploadPartCopy(r: S3Request, id: string, n: number, copySource: string, up: ContentInfo): Promise<void> {
  const src = parseCopySource(copySource);
  checkKey(src.key);
  // The source's bucket may be another account's (resolved by access.ts).
  const from: S3Scope = { gw: r.gw, storage: r.sourceStorage ?? r.storage };
  const source = await resolveVersion(from, src.bucket, src.key, src.versionId);
  if (source.deleted) throw new S3Error('InvalidRequest', 'The source of a copy request may not be a delete marker.');
  checkConditions(r, source, 'x-amz-copy-source-');
  let start = 0;
  let end = source.size - 1;
  const range = r.header('x-amz-copy-source-range');
  if (range !== undefined) {
    const m = /^bytes=(\d+)-(\d+)$/.exec(range.trim());
    if (!m || Number(m[2]) < Number(m[1])) throw new S3Error('InvalidArgument', 'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy', { ArgumentName: 'x-amz-copy-source-range' });
    start = Number(m[1]);
    end = Number(m[2]);
    if (end >= source.size) throw new S3Error('InvalidRange', 'The requested range is not satisfiable', { ActualObjectSize: String(source.size) });
  }
  const size = Math.max(0, end - start + 1);
  // Encryption: the source's key to read it, the upload's to write the part.
  const srcKey = readKey(r, source, true);
  const dstKey = readKey(r, up);
  const got = size === 0 ? undefined : await from.storage.objectGet(src.bucket, src.key, { version: source.version, start, end });
  const plain = got && srcKey ? { stream: through(got.stream, new Decryptor(srcKey, source, start)) } : got;
  // An upload created with a checksum algorithm keeps the copied part's checksum.
  const { data, endProperties, checksum } = copyData(plain, algorithmOf(up));
  const out = encrypted(dstKey, data);
  const part = await r.storage.objectPut(r.bucket!, partName(id, n), out.data, { size, mime: 'application/octet-stream', properties: out.props, policy: policyOf(r, up), endProperties });
  const sum = checksum();
  sendXml(r, 200, doc('CopyPartResult', txt('LastModified', isoDate(part.mtime)), txt('ETag', etagOf(part)), sum ? txt(CHECKSUM_XML[sum.algorithm]!, sum.value) : undefined));
}

/** POST /bucket/key?uploadId: the object is made of the listed parts' chunks. */
export async function completeMultipartUpload(r: S3Request): Promise<void> {
  const id = uploadIdOf(r);
  const x = await readXml(r);
  if (x!.name !== 'CompleteMultipartUpload') throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
  const asked = children(x!, 'Part').map((p) => {
    const num = childText(p, 'PartNumber');
    const etag = childText(p, 'ETag');
    if (num === undefined || !/^\d+$/.test(num.trim()) || etag === undefined) throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    const sums = new Map<string, string>();
    for (const a of CHECKSUM_ALGORITHMS) { const v = childText(p, CHECKSUM_XML[a]!); if (v !== undefined) sums.set(a, v.trim()); }
    return { n: Number(num.trim()), etag: etag.trim().replace(/^"|"$/g, '').toLowerCase(), sums };
  });
  if (asked.length === 0) throw new S3Error('MalformedXML', 'You must specify at least one part');
  for (let i = 1; i < asked.length; i++) if (asked[i]!.n <= asked[i - 1]!.n) throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order. The parts list must be specified in order by part number.', { UploadId: id });
  const up = await upload(r, id).catch(async (e: unknown) => {
    // Completed already (a client retrying, its answer lost): the same answer while the object
    // it made is the key's current version, as in S3.
    if (e instanceof S3Error && e.s3Code === 'NoSuchUpload') {
      const done = await r.storage.objectHead(r.bucket!, r.key!).catch(() => undefined);
      if (done?.properties[PROP.completedUpload] === id) return done;
    }
    throw e;
  });
  if (up.properties[PROP.completedUpload] === id) { await completed(r, up); return; }
  const expectLatest = await writeConditions(r, r.bucket!, r.key!);
  const parts: ContentInfo[] = [];
  for (const a of asked) {
    const p = await r.storage.objectHead(r.bucket!, partName(id, a.n)).catch((e: unknown) => {
      if (isNotFound(e)) return undefined;
      throw e;
    });
    if (!p || p.hash.toLowerCase() !== a.etag) throw new S3Error('InvalidPart', 'One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part\'s entity tag.', { UploadId: id, PartNumber: String(a.n), ETag: a.etag });
    parts.push(p);
  }
  parts.forEach((p, i) => {
    if (i < parts.length - 1 && p.size < MIN_PART_BYTES) throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', { ProposedSize: String(p.size), MinSizeAllowed: String(MIN_PART_BYTES), PartNumber: String(asked[i]!.n), ETag: asked[i]!.etag });
  });
  const md5 = createHash('md5');
  for (const p of parts) md5.update(Buffer.from(p.hash, 'hex'));
  const etag = `${md5.digest('hex')}-${parts.length}`;
  const props: Record<string, string> = {};
  const uploadOnly: string[] = [PROP.uploadKey, PROP.uploadInitiated, PROP.uploadChecksum, PROP.uploadChecksumType];
  for (const [k, v] of Object.entries(up.properties)) if (!uploadOnly.includes(k)) props[k] = v;
  const checksum = objectChecksum(r, up, asked, parts, id);
  if (checksum) {
    props[`${PROP.checksum}${checksum.algorithm}`] = checksum.value;
    props[PROP.partChecksums] = checksum.parts.join(',');
    if (checksum.type === 'COMPOSITE') props[PROP.checksumType] = 'COMPOSITE';
  }
  Object.assign(props, { [PROP.etag]: etag, [PROP.partsCount]: String(parts.length), [PROP.partSizes]: parts.map((p) => p.size).join(','), [PROP.completedUpload]: id }, await nullProps(r, r.bucket!));
  // Encrypted (SSE-C, SSE-S3): the object keeps each part's IV, in order.
  if (isEncrypted(up)) {
    if (parts.some((p) => !p.properties[PROP.sseIv])) throw new S3Error('InvalidPart', 'A part of an encrypted upload was stored without its encryption.', { UploadId: id });
    props[PROP.sseIvs] = parts.map((p) => p.properties[PROP.sseIv]).join(',');
  }
  const obj = await r.storage.objectConcat(r.bucket!, r.key!, parts.map((p) => ({ name: p.name, version: p.version })), { mime: up.mime, properties: props, expectLatest });
  // The parts' names go; their chunks stay, referenced by the new object.
  await abortUpload(r, r.bucket!, id, up.version);
  const headers = await settleVersion(r, r.bucket!, obj);
  if (isSseS3(up)) headers['x-amz-server-side-encryption'] = 'AES256';
  completeAnswer(r, etag, checksum, headers);
}

function completeAnswer(r: S3Request, etag: string, checksum: { algorithm: ChecksumAlgorithm; type: string; value: string } | undefined, headers: Record<string, string>): void {
  const host = r.header('host') ?? 'localhost';
  sendXml(r, 200, doc('CompleteMultipartUploadResult', txt('Location', `http://${host}/${r.bucket}/${encodeURI(r.key!)}`), txt('Bucket', r.bucket), txt('Key', r.key), txt('ETag', `"${etag}"`),
    checksum ? txt(CHECKSUM_XML[checksum.algorithm]!, checksum.value) : undefined, checksum ? txt('ChecksumType', checksum.type) : undefined), headers);
}

/** The answer to a Complete of an upload already completed into `obj`. */
async function completed(r: S3Request, obj: ContentInfo): Promise<void> {
  const headers: Record<string, string> = versioningOf(await bucketInfo(r)) === 'Enabled' ? { 'x-amz-version-id': versionIdOf(obj) } : {};
  if (isSseS3(obj)) headers['x-amz-server-side-encryption'] = 'AES256';
  const algorithm = CHECKSUM_ALGORITHMS.find((a) => obj.properties[`${PROP.checksum}${a}`] !== undefined);
  const checksum = algorithm ? { algorithm, type: obj.properties[PROP.checksumType] ?? 'FULL_OBJECT', value: obj.properties[`${PROP.checksum}${algorithm}`]! } : undefined;
  completeAnswer(r, etagOf(obj).replace(/"/g, ''), checksum, headers);
}

/**
 * The checksum of the object an upload created with a checksum algorithm completes into, from
 * the checksums its parts kept: each one the Complete request names must match (InvalidPart),
 * and so must the whole object's when the request gives it (BadDigest).
 */
function objectChecksum(r: S3Request, up: ContentInfo, asked: Array<{ n: number; etag: string; sums: Map<string, string> }>, parts: ContentInfo[], id: string):
  { algorithm: ChecksumAlgorithm; type: ChecksumType; value: string; parts: string[] } | undefined {
  const algorithm = algorithmOf(up);
  if (algorithm === undefined) return undefined;
  const type = (up.properties[PROP.uploadChecksumType] ?? 'COMPOSITE') as ChecksumType;
  const values = parts.map((p, i) => {
    const kept = p.properties[`${PROP.checksum}${algorithm}`];
    const a = asked[i]!;
    for (const [algo, v] of a.sums) {
      if (algo !== algorithm || (kept !== undefined && v !== kept)) {
        throw new S3Error('InvalidPart', `One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.`, { UploadId: id, PartNumber: String(a.n), ETag: a.etag });
      }
    }
    return kept;
  });
  // Parts from before the upload kept checksums: the object gets none rather than a wrong one.
  if (values.some((v) => v === undefined)) return undefined;
  const value = multipartChecksum(algorithm, type, values.map((v, i) => ({ value: v!, size: parts[i]!.size })));
  const expected = r.header(`x-amz-checksum-${algorithm}`)?.trim();
  if (expected !== undefined && expected !== value && `${expected}-${parts.length}` !== value) {
    throw new S3Error('BadDigest', `The x-amz-checksum-${algorithm} you specified did not match the calculated checksum.`);
  }
  return { algorithm, type, value, parts: values as string[] };
}

/** DELETE /bucket/key?uploadId: the parts and their data go. */
export async function abortMultipartUpload(r: S3Request): Promise<void> {
  const id = uploadIdOf(r);
  const up = await upload(r, id);
  await abortUpload(r, r.bucket!, id, up.version);
  sendEmpty(r, 204);
}

/** GET /bucket/key?uploadId */
export async function listParts(r: S3Request): Promise<void> {
  const id = uploadIdOf(r);
  const up = await upload(r, id);
  const mpV = r.query.get('max-parts');
  const maxParts = mpV === undefined ? 1000 : Number(mpV);
  if (!Number.isInteger(maxParts) || maxParts < 0) throw new S3Error('InvalidArgument', 'max-parts must be a non-negative integer', { ArgumentName: 'max-parts' });
  const pmV = r.query.get('part-number-marker') ?? '0';
  if (!/^\d{1,5}$/.test(pmV)) throw new S3Error('InvalidArgument', 'part-number-marker must be an integer', { ArgumentName: 'part-number-marker' });
  const marker = Number(pmV) > 0 ? partName(id, Number(pmV)) : undefined;
  const page = Math.min(maxParts, 1000) === 0 ? { objects: [], prefixes: [], truncated: false } : await r.storage.objectList(r.bucket!, { prefix: partPrefix(id), marker, limit: Math.min(maxParts, 1000) });
  const parts = page.objects.map((o) => ({ n: Number(o.name.slice(partPrefix(id).length)), o }));
  const last = parts[parts.length - 1];
  // The upload's writer (its ACL's owner), else the bucket's owner.
  const who = up.properties[PROP.acl] ? storedAcl(up.properties[PROP.acl], r.storage.account).owner : r.storage.account;
  const owner = el('Owner', txt('ID', who), txt('DisplayName', who));
  const algorithm = algorithmOf(up);
  const sumOf = (o: ContentInfo) => (algorithm ? txt(CHECKSUM_XML[algorithm]!, o.properties[`${PROP.checksum}${algorithm}`]) : undefined);
  sendXml(r, 200, doc('ListPartsResult', txt('Bucket', r.bucket), txt('Key', r.key), txt('UploadId', id),
    el('Initiator', txt('ID', who), txt('DisplayName', who)), owner, txt('StorageClass', storageClassOf(up)),
    txt('PartNumberMarker', Number(pmV)), txt('NextPartNumberMarker', last?.n ?? 0), txt('MaxParts', maxParts), txt('IsTruncated', page.truncated),
    algorithm ? txt('ChecksumAlgorithm', algorithm.toUpperCase()) : undefined, algorithm ? txt('ChecksumType', up.properties[PROP.uploadChecksumType]) : undefined,
    ...parts.map(({ n, o }) => el('Part', txt('PartNumber', n), txt('LastModified', isoDate(o.mtime)), txt('ETag', etagOf(o)), txt('Size', o.size), sumOf(o)))));
}

/** GET /bucket?uploads: uploads under way, by key then initiation time. */
export async function listMultipartUploads(r: S3Request): Promise<void> {
  const prefix = r.query.get('prefix') ?? '';
  const delimiter = r.query.get('delimiter') ?? '';
  const keyMarker = r.query.get('key-marker') ?? '';
  const idMarker = r.query.get('upload-id-marker') ?? '';
  const muV = r.query.get('max-uploads');
  const maxUploads = muV === undefined ? 1000 : Math.min(1000, Number(muV));
  if (!Number.isInteger(maxUploads) || maxUploads < 0) throw new S3Error('InvalidArgument', 'max-uploads must be a non-negative integer', { ArgumentName: 'max-uploads' });
  await bucketInfo(r);
  // Uploads under way are few: read their records (not their parts: the delimiter skips them).
  const all: Array<{ key: string; id: string; initiated: number; algorithm?: string; type?: string; storageClass: string; owner: string }> = [];
  let marker: string | undefined;
  for (;;) {
    const page = await r.storage.objectList(r.bucket!, { prefix: MPU_PREFIX, delimiter: '/', marker, limit: 1000 });
    for (const o of page.objects) {
      const key = o.properties[PROP.uploadKey];
      if (key !== undefined && key.startsWith(prefix)) all.push({ key, id: o.name.slice(MPU_PREFIX.length), initiated: Number(o.properties[PROP.uploadInitiated] ?? o.ctime), algorithm: o.properties[PROP.uploadChecksum], type: o.properties[PROP.uploadChecksumType], storageClass: storageClassOf(o),
        owner: o.properties[PROP.acl] ? storedAcl(o.properties[PROP.acl], r.storage.account).owner : r.storage.account });
    }
    if (!page.truncated || !page.next_marker) break;
    marker = page.next_marker;
  }
  const cmp = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
  all.sort((a, b) => cmp(a.key, b.key) || a.initiated - b.initiated || cmp(a.id, b.id));
  const after = all.filter((u) => {
    if (keyMarker === '') return true;
    const c = cmp(u.key, keyMarker);
    if (c !== 0) return c > 0;
    if (idMarker === '') return false;
    return cmp(u.id, idMarker) > 0;
  });
  const uploads: typeof all = [];
  const prefixes: string[] = [];
  let truncated = false;
  let lastKey = '';
  let lastId = '';
  for (const u of after) {
    let cp: string | undefined;
    if (delimiter !== '') {
      const i = u.key.indexOf(delimiter, prefix.length);
      if (i >= 0) cp = u.key.slice(0, i + delimiter.length);
    }
    if (cp !== undefined && prefixes[prefixes.length - 1] === cp) continue;
    if (uploads.length + prefixes.length >= maxUploads) { truncated = true; break; }
    if (cp !== undefined) { prefixes.push(cp); lastKey = cp; lastId = ''; } else { uploads.push(u); lastKey = u.key; lastId = u.id; }
  }
  const person = (n: string, id: string) => el(n, txt('ID', id), txt('DisplayName', id));
  sendXml(r, 200, doc('ListMultipartUploadsResult', txt('Bucket', r.bucket), txt('KeyMarker', keyMarker), txt('UploadIdMarker', idMarker),
    txt('NextKeyMarker', truncated ? lastKey : ''), txt('NextUploadIdMarker', truncated ? lastId : ''), delimiter ? txt('Delimiter', delimiter) : undefined, txt('Prefix', prefix),
    txt('MaxUploads', maxUploads), txt('IsTruncated', truncated),
    ...uploads.map((u) => el('Upload', txt('Key', u.key), txt('UploadId', u.id), person('Initiator', u.owner), person('Owner', u.owner), txt('StorageClass', u.storageClass), txt('Initiated', isoDate(u.initiated)),
      txt('ChecksumAlgorithm', u.algorithm?.toUpperCase()), txt('ChecksumType', u.type))),
    ...prefixes.map((p) => el('CommonPrefixes', txt('Prefix', p)))));
}
