/**
 * @module gateways/s3/listing
 * ListObjects (v1), ListObjectsV2 and ListObjectVersions, one meta2 page per answer: meta2
 * does the ordering (UTF-8 bytes), the delimiter roll-up and the truncation, so a bucket of
 * millions of objects is never loaded whole. The gateway's reserved names sort last and end
 * the listing.
 */
import type { ContentInfo, ContentList } from '../../common/model';
import { uriEncode } from './auth';
import { PROP, RESERVED, S3Request, etagOf, isoDate, sendXml, storageClassOf, versionIdOf } from './context';
import { storedAcl } from './acl';
import { S3Error } from './errors';
import { doc, el, txt } from './xml';

const MAX_KEYS = 1000;

function maxKeysOf(r: S3Request, name = 'max-keys'): number {
  const v = r.query.get(name);
  if (v === undefined || v === '') return MAX_KEYS;
  if (!/^-?\d+$/.test(v) || Number(v) < 0) throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, { ArgumentName: name, ArgumentValue: v });
  return Math.min(MAX_KEYS, Number(v));
}

function encoder(r: S3Request): (s: string | undefined) => string | undefined {
  const et = r.query.get('encoding-type');
  if (et !== undefined && et !== 'url') throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type' });
  return et === 'url' ? (s) => (s === undefined ? undefined : uriEncode(s, false)) : (s) => s;
}

/** Drops reserved names; a reserved name ends the listing (they sort last). */
function visible(page: ContentList): ContentList {
  const cut = (n: string) => n.startsWith(RESERVED);
  const hidden = page.objects.some((o) => cut(o.name)) || page.prefixes.some(cut);
  if (!hidden) return page;
  return { objects: page.objects.filter((o) => !cut(o.name)), prefixes: page.prefixes.filter((p) => !cut(p)), truncated: false };
}

async function page(r: S3Request, opts: { prefix?: string; delimiter?: string; marker?: string; limit: number; versions?: boolean; versionMarker?: number }): Promise<ContentList> {
  if (opts.limit === 0) return { objects: [], prefixes: [], truncated: false };
  return visible(await r.storage.objectList(r.bucket!, { prefix: opts.prefix || undefined, delimiter: opts.delimiter || undefined, marker: opts.marker || undefined, limit: opts.limit, versions: opts.versions, versionMarker: opts.versionMarker }));
}

/** The owner of a listed object: its writer (its ACL's owner), else the bucket's. */
const owner = (r: S3Request, o?: ContentInfo) => {
  const id = o?.properties?.[PROP.acl] ? storedAcl(o.properties[PROP.acl], r.storage.account).owner : r.storage.account;
  return el('Owner', txt('ID', id), txt('DisplayName', id));
};

function contents(r: S3Request, o: ContentInfo, enc: (s: string) => string | undefined, withOwner: boolean): string {
  return el('Contents', txt('Key', enc(o.name)), txt('LastModified', isoDate(o.mtime)), txt('ETag', etagOf(o)), txt('Size', o.size), txt('StorageClass', storageClassOf(o)), withOwner ? owner(r, o) : undefined);
}

/** GET /bucket (v1) */
export async function listObjectsV1(r: S3Request): Promise<void> {
  const enc = encoder(r);
  const prefix = r.query.get('prefix') ?? '';
  const delimiter = r.query.get('delimiter') ?? '';
  const marker = r.query.get('marker') ?? '';
  const maxKeys = maxKeysOf(r);
  const p = await page(r, { prefix, delimiter, marker, limit: maxKeys });
  const nextMarker = p.truncated ? p.next_marker : undefined;
  // v1 encodes Delimiter, Marker, NextMarker and the keys, not the Prefix it echoes (as S3; botocore decodes those only).
  sendXml(r, 200, doc('ListBucketResult',
    txt('Name', r.bucket), txt('Prefix', prefix), txt('Marker', enc(marker)), txt('MaxKeys', maxKeys), delimiter ? txt('Delimiter', enc(delimiter)) : undefined,
    r.query.has('encoding-type') ? txt('EncodingType', 'url') : undefined,
    txt('IsTruncated', p.truncated), nextMarker !== undefined ? txt('NextMarker', enc(nextMarker)) : undefined,
    ...p.objects.map((o) => contents(r, o, (s) => enc(s)!, true)),
    ...p.prefixes.map((cp) => el('CommonPrefixes', txt('Prefix', enc(cp))))));
}

/** GET /bucket?list-type=2 */
export async function listObjectsV2(r: S3Request): Promise<void> {
  const enc = encoder(r);
  const prefix = r.query.get('prefix') ?? '';
  const delimiter = r.query.get('delimiter') ?? '';
  const token = r.query.get('continuation-token');
  const startAfter = r.query.get('start-after') ?? '';
  let marker = startAfter;
  // An empty token is no token (echoed as given).
  if (token !== undefined && token !== '') {
    const decoded = Buffer.from(token, 'base64url').toString('utf8');
    if (!decoded.startsWith('1:')) throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
    marker = decoded.slice(2);
  }
  const maxKeys = maxKeysOf(r);
  const fetchOwner = r.query.get('fetch-owner') === 'true';
  const p = await page(r, { prefix, delimiter, marker, limit: maxKeys });
  const next = p.truncated && p.next_marker !== undefined ? Buffer.from(`1:${p.next_marker}`, 'utf8').toString('base64url') : undefined;
  sendXml(r, 200, doc('ListBucketResult',
    txt('Name', r.bucket), txt('Prefix', enc(prefix)), txt('MaxKeys', maxKeys), delimiter ? txt('Delimiter', enc(delimiter)) : undefined,
    r.query.has('encoding-type') ? txt('EncodingType', 'url') : undefined,
    txt('KeyCount', p.objects.length + p.prefixes.length),
    txt('IsTruncated', p.truncated), token !== undefined ? txt('ContinuationToken', token) : undefined, next !== undefined ? txt('NextContinuationToken', next) : undefined,
    startAfter ? txt('StartAfter', enc(startAfter)) : undefined,
    ...p.objects.map((o) => contents(r, o, (s) => enc(s)!, fetchOwner)),
    ...p.prefixes.map((cp) => el('CommonPrefixes', txt('Prefix', enc(cp))))));
}

/** GET /bucket?versions */
export async function listObjectVersions(r: S3Request): Promise<void> {
  const enc = encoder(r);
  const prefix = r.query.get('prefix') ?? '';
  const delimiter = r.query.get('delimiter') ?? '';
  const keyMarker = r.query.get('key-marker') ?? '';
  const vm = r.query.get('version-id-marker');
  if (vm !== undefined && vm !== '' && keyMarker === '') throw new S3Error('InvalidArgument', 'A version-id marker cannot be specified without a key marker.', { ArgumentName: 'version-id-marker' });
  if (vm !== undefined && vm !== '' && vm !== 'null' && !/^\d{1,20}$/.test(vm)) throw new S3Error('InvalidArgument', 'Invalid version id specified', { ArgumentName: 'version-id-marker' });
  const versionMarker = vm && vm !== 'null' ? Number(vm) : undefined;
  const maxKeys = maxKeysOf(r);
  const p = await page(r, { prefix, delimiter, marker: keyMarker, limit: maxKeys, versions: true, versionMarker });
  let prev = versionMarker !== undefined ? keyMarker : undefined;
  const items = p.objects.map((o) => {
    const latest = o.name !== prev;
    prev = o.name;
    const common = [txt('Key', enc(o.name)), txt('VersionId', versionIdOf(o)), txt('IsLatest', latest), txt('LastModified', isoDate(o.mtime))];
    return o.deleted
      ? el('DeleteMarker', ...common, owner(r, o))
      : el('Version', ...common, txt('ETag', etagOf(o)), txt('Size', o.size), txt('StorageClass', storageClassOf(o)), owner(r, o));
  });
  const last = p.objects[p.objects.length - 1];
  const nextKey = p.truncated ? p.next_marker : undefined;
  const nextVersion = p.truncated && last && last.name === nextKey ? String(last.version) : undefined;
  sendXml(r, 200, doc('ListVersionsResult',
    txt('Name', r.bucket), txt('Prefix', enc(prefix)), txt('KeyMarker', enc(keyMarker)), txt('VersionIdMarker', vm ?? ''), txt('MaxKeys', maxKeys),
    delimiter ? txt('Delimiter', enc(delimiter)) : undefined, r.query.has('encoding-type') ? txt('EncodingType', 'url') : undefined,
    txt('IsTruncated', p.truncated), nextKey !== undefined ? txt('NextKeyMarker', enc(nextKey)) : undefined, nextVersion !== undefined ? txt('NextVersionIdMarker', nextVersion) : undefined,
    ...items, ...p.prefixes.map((cp) => el('CommonPrefixes', txt('Prefix', enc(cp))))));
}
