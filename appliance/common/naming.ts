/**
 * @module common/naming
 * Identity helpers, defined once: container ids (CID), prefixes, name validation, chunk and
 * content ids, ObjectUrl. Never rebuild a CID or URL by hand.
 */
import { createHash, randomBytes } from 'node:crypto';
import { InvalidArgumentError } from './errors';

export const MAX_NAME_BYTES = 1024;

/**
 * Object names starting with this character are the front ends' own (S3 multipart uploads and
 * their parts): U+10FFFF sorts after every other name in UTF-8 byte order, so listings meet
 * them last. S3 refuses client keys starting with it; file bridges hide them and refuse them.
 */
export const RESERVED_NAME_PREFIX = '\u{10FFFF}';

/** True for the front ends' own object names (see RESERVED_NAME_PREFIX). */
export function isReservedName(name: string): boolean {
  return name.startsWith(RESERVED_NAME_PREFIX);
}

/** CID = uppercase hex SHA-256 of (account + "\0" + container). */
export function cidOf(account: string, container: string): string {
  return createHash('sha256').update(account).update('\0').update(container).digest('hex').toUpperCase();
}

/** The 16-bit meta0 prefix of a CID: its first 4 hex digits. */
export function prefixOf(cid: string): string {
  return cid.slice(0, 4).toUpperCase();
}

export function isCid(s: string): boolean {
  return /^[0-9A-F]{64}$/.test(s);
}

/**
 * Checks an account, container or object name: not empty, at most 1,024 bytes of UTF-8,
 * no NUL byte. Throws INVALID_NAME naming the kind of name.
 */
export function validateName(kind: 'account' | 'container' | 'object', name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError('INVALID_NAME', `${kind} name is empty`);
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) throw new InvalidArgumentError('INVALID_NAME', `${kind} name is longer than ${MAX_NAME_BYTES} bytes`);
  if (name.includes('\0')) throw new InvalidArgumentError('INVALID_NAME', `${kind} name contains a NUL byte`);
  return name;
}

/**
 * Random bytes for ids, taken from a 4 KiB buffer of the system's CSPRNG refilled when used
 * up: one call to the CSPRNG per hundred ids instead of one per id (small uploads make several).
 */
let randomPool = Buffer.alloc(0);
let randomUsed = 0;

/** `bytes` random bytes as lowercase hex (never twice the same bytes). */
export function randomHex(bytes: number): string {
  if (randomUsed + bytes > randomPool.length) {
    randomPool = randomBytes(Math.max(4096, bytes));
    randomUsed = 0;
  }
  const s = randomPool.toString('hex', randomUsed, randomUsed + bytes);
  randomUsed += bytes;
  return s;
}

/** A new chunk id: 64 uppercase hex digits (as OpenIO). */
export function newChunkId(): string {
  return randomHex(32).toUpperCase();
}

/** A new content id: 32 uppercase hex digits. */
export function newContentId(): string {
  return randomHex(16).toUpperCase();
}

export function isChunkId(s: string): boolean {
  return /^[0-9A-F]{64}$/.test(s);
}

/** Where an object lives: namespace / account / container / object (and version). */
export class ObjectUrl {
  constructor(
    readonly ns: string,
    readonly account: string,
    readonly container: string,
    readonly object?: string,
    readonly version?: string,
  ) {
    validateName('account', account);
    validateName('container', container);
    if (object !== undefined) validateName('object', object);
  }

  get cid(): string { return cidOf(this.account, this.container); }

  withObject(object: string, version?: string): ObjectUrl {
    return new ObjectUrl(this.ns, this.account, this.container, object, version);
  }

  toString(): string {
    return [this.ns, this.account, this.container, this.object].filter((x) => x !== undefined).map(encodeURIComponent).join('/');
  }
}
