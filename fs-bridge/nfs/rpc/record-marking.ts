/**
 * @module fs-bridge/nfs/rpc/record-marking
 * RFC 5531 §11 record marking on a byte stream: each record is one or more fragments, each
 * preceded by a 4-byte header (high bit: last fragment; low 31 bits: fragment length).
 * The decoder reassembles records from arbitrary TCP segmentation and refuses records over a
 * size limit (a hostile length never allocates).
 */

export const LAST_FRAGMENT = 0x80000000;

/** Frames `chunks` as one record of a single fragment (header + payload, no copy). */
export function frameRecord(chunks: Buffer[]): Buffer[] {
  const len = chunks.reduce((n, c) => n + c.length, 0);
  const header = Buffer.allocUnsafe(4);
  header.writeUInt32BE((LAST_FRAGMENT | len) >>> 0, 0);
  return [header, ...chunks];
}

/** Error raised when the peer announces a record larger than allowed: the connection is closed. */
export class RecordTooLargeError extends Error {
  constructor(readonly size: number, readonly max: number) {
    super(`RPC record of ${size} bytes exceeds ${max}`);
    this.name = 'RecordTooLargeError';
  }
}

/** Incremental decoder: `push` bytes as they arrive, get complete records back. */
export class RecordDecoder {
  private pending: Buffer[] = [];
  private pendingLen = 0;
  /** fragments of the record being assembled */
  private fragments: Buffer[] = [];
  private recordLen = 0;

  constructor(private readonly maxRecordBytes: number) {}

  /** Returns the records completed by `data` (zero or more); throws RecordTooLargeError. */
  push(data: Buffer): Buffer[] {
    if (data.length) {
      this.pending.push(data);
      this.pendingLen += data.length;
    }
    const out: Buffer[] = [];
    for (;;) {
      if (this.pendingLen < 4) break;
      const header = this.peek(4).readUInt32BE(0);
      const len = header & 0x7fffffff;
      const last = (header & LAST_FRAGMENT) !== 0;
      if (this.recordLen + len > this.maxRecordBytes) throw new RecordTooLargeError(this.recordLen + len, this.maxRecordBytes);
      if (this.pendingLen < 4 + len) break;
      this.take(4);
      const frag = this.take(len);
      this.fragments.push(frag);
      this.recordLen += len;
      if (last) {
        out.push(this.fragments.length === 1 ? this.fragments[0]! : Buffer.concat(this.fragments, this.recordLen));
        this.fragments = [];
        this.recordLen = 0;
      }
    }
    return out;
  }

  private peek(n: number): Buffer {
    const first = this.pending[0]!;
    if (first.length >= n) return first.subarray(0, n);
    return Buffer.concat(this.pending, this.pendingLen).subarray(0, n);
  }

  private take(n: number): Buffer {
    const first = this.pending[0];
    if (first && first.length >= n) {
      const v = first.subarray(0, n);
      if (first.length === n) this.pending.shift();
      else this.pending[0] = first.subarray(n);
      this.pendingLen -= n;
      return v;
    }
    const all = Buffer.concat(this.pending, this.pendingLen);
    const v = all.subarray(0, n);
    const rest = all.subarray(n);
    this.pending = rest.length ? [rest] : [];
    this.pendingLen = rest.length;
    return v;
  }
}
