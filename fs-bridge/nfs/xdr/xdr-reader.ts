/**
 * @module fs-bridge/nfs/xdr/xdr-reader
 * RFC 4506 decoder over one Buffer. Every read is bounds-checked and throws XdrError, so a
 * truncated or hostile request can never read outside its record or allocate without limit.
 */
import { XdrError } from './xdr-error';

export class XdrReader {
  private pos: number;

  /** `buf` is not copied: opaque values returned are views on it. */
  constructor(private readonly buf: Buffer, offset = 0) {
    this.pos = offset;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.buf.length) throw new XdrError(`XDR: need ${n} bytes at ${this.pos}, have ${this.buf.length - this.pos}`);
  }

  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** unsigned hyper as bigint (exact) */
  uint64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  /** unsigned hyper as a number; XdrError above 2^53 (offsets and sizes of this server fit) */
  uint64Number(): number {
    const v = this.uint64();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new XdrError(`XDR: hyper ${v} too large`);
    return Number(v);
  }

  bool(): boolean {
    const v = this.uint32();
    if (v > 1) throw new XdrError(`XDR: bad bool ${v}`);
    return v === 1;
  }

  /** fixed-length opaque of `n` bytes plus padding */
  fixedOpaque(n: number): Buffer {
    const padded = (n + 3) & ~3;
    this.need(padded);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += padded;
    return v;
  }

  /** variable-length opaque; XdrError when longer than `max` */
  opaque(max = 0xffffffff): Buffer {
    const n = this.uint32();
    if (n > max) throw new XdrError(`XDR: opaque of ${n} bytes exceeds ${max}`);
    return this.fixedOpaque(n);
  }

  /** string as UTF-8; XdrError when longer than `max` bytes */
  string(max = 0xffffffff): string {
    return this.opaque(max).toString('utf8');
  }

  /** optional-data (`*T`): a bool then the value when present */
  optional<T>(read: (r: XdrReader) => T): T | undefined {
    return this.bool() ? read(this) : undefined;
  }

  /** fails unless the whole buffer was consumed (trailing bytes are tolerated by callers that want) */
  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }
}
