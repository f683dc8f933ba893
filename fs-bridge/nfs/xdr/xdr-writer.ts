/**
 * @module fs-bridge/nfs/xdr/xdr-writer
 * RFC 4506 encoder into a growing Buffer (big-endian, 4-byte aligned, zero padding).
 * Large opaque payloads (READ data) can be appended without copying through `chunks()`.
 */

export class XdrWriter {
  private buf: Buffer;
  private pos = 0;
  /** finished segments (used when a large payload is attached without copy) */
  private parts: Buffer[] = [];
  private partsLen = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** bytes written so far */
  get length(): number {
    return this.partsLen + this.pos;
  }

  uint32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  int32(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v | 0, this.pos);
    this.pos += 4;
    return this;
  }

  uint64(v: number | bigint): this {
    this.ensure(8);
    this.buf.writeBigUInt64BE(BigInt.asUintN(64, BigInt(v)), this.pos);
    this.pos += 8;
    return this;
  }

  bool(v: boolean): this {
    return this.uint32(v ? 1 : 0);
  }

  /** fixed-length opaque: the bytes and zero padding to 4 */
  fixedOpaque(data: Buffer): this {
    const pad = (4 - (data.length & 3)) & 3;
    if (data.length >= 64 * 1024) {
      // Attach big payloads as their own segment instead of copying them.
      this.parts.push(this.buf.subarray(0, this.pos), data);
      this.partsLen += this.pos + data.length;
      this.buf = Buffer.allocUnsafe(Math.max(256, pad));
      this.pos = 0;
    } else {
      this.ensure(data.length);
      data.copy(this.buf, this.pos);
      this.pos += data.length;
    }
    this.ensure(pad);
    this.buf.fill(0, this.pos, this.pos + pad);
    this.pos += pad;
    return this;
  }

  opaque(data: Buffer): this {
    this.uint32(data.length);
    return this.fixedOpaque(data);
  }

  string(s: string): this {
    return this.opaque(Buffer.from(s, 'utf8'));
  }

  /** the encoded segments in order (no copy of attached payloads) */
  chunks(): Buffer[] {
    return [...this.parts, this.buf.subarray(0, this.pos)];
  }

  /** the whole encoding as one Buffer */
  toBuffer(): Buffer {
    return this.parts.length ? Buffer.concat(this.chunks()) : this.buf.subarray(0, this.pos);
  }
}
