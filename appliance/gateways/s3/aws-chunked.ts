/**
 * @module gateways/s3/aws-chunked
 * The body of an upload as a verified stream: decodes `aws-chunked` framing (signed chunks
 * `size;chunk-signature=…`, unsigned chunks, trailers such as `x-amz-checksum-crc32`), and
 * checks, as bytes pass, the payload SHA-256, Content-MD5, the x-amz-checksum-* value and
 * the announced length. Nothing is buffered beyond one framing line: bytes flow on, and a
 * check that fails at the end errors the stream, so the upload it feeds is never committed.
 */
import { createHash, Hash } from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';
import { AuthResult, EMPTY_SHA256, chunkStringToSign, sameSignature, signHex, sha256Hex, trailerStringToSign } from './auth';
import { ChecksumAlgorithm, Checksummer, algorithmOfHeader, checksummer } from './checksum';
import { S3Error } from './errors';

const MAX_LINE = 4096;
const MAX_TRAILER_BYTES = 16 * 1024;

export interface BodyOptions {
  auth: Pick<AuthResult, 'payload' | 'signingKey' | 'amzDate' | 'scope' | 'signature'>;
  /** Content-MD5 header (base64) */
  contentMd5?: string;
  /** x-amz-checksum-<algo> given as a header (base64) */
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
  /** algorithm announced by x-amz-trailer (its value comes in the trailer) */
  trailerChecksum?: ChecksumAlgorithm;
  /** algorithm to compute when the request gives no checksum (nothing to verify it against) */
  computeChecksum?: ChecksumAlgorithm;
  /** bytes the decoded body must have (Content-Length or x-amz-decoded-content-length) */
  length?: number;
}

type State = 'line' | 'data' | 'crlf' | 'trailer' | 'done';

/** The decoded, verified body. `computed` holds the checksums once the stream ended. */
export class S3Body extends Transform {
  private readonly streaming: boolean;
  private readonly signedChunks: boolean;
  private state: State = 'line';
  private line = Buffer.alloc(0);
  private remaining = 0;
  private chunkHash: Hash | undefined;
  private chunkSig = '';
  private prevSig: string;
  private trailerBytes = 0;
  private trailerLines: string[] = [];
  private readonly sha256: Hash | undefined;
  private readonly md5: Hash | undefined;
  private sum: Checksummer | undefined;
  private sumAlgorithm: ChecksumAlgorithm | undefined;
  private bytes = 0;
  /** the checksum computed (base64) and its algorithm, once ended */
  computed: { md5?: string; checksum?: { algorithm: ChecksumAlgorithm; value: string } } = {};

  constructor(private readonly opts: BodyOptions) {
    super({ highWaterMark: 1024 * 1024 });
    const p = opts.auth.payload;
    this.streaming = p.kind === 'streaming';
    this.signedChunks = p.kind === 'streaming' && p.signed;
    this.prevSig = opts.auth.signature;
    this.sha256 = p.kind === 'sha256' ? createHash('sha256') : undefined;
    this.md5 = opts.contentMd5 !== undefined ? createHash('md5') : undefined;
    this.sumAlgorithm = opts.checksum?.algorithm ?? opts.trailerChecksum ?? opts.computeChecksum;
    this.sum = this.sumAlgorithm ? checksummer(this.sumAlgorithm) : undefined;
    if (!this.streaming) this.state = 'data';
  }

  /** Bytes of decoded body seen so far. */
  get size(): number { return this.bytes; }

  private emitData(b: Buffer): void {
    if (b.length === 0) return;
    this.bytes += b.length;
    if (this.opts.length !== undefined && this.bytes > this.opts.length) throw new S3Error('IncompleteBody', 'the body is longer than announced');
    this.sha256?.update(b);
    this.md5?.update(b);
    this.sum?.update(b);
    this.chunkHash?.update(b);
    this.push(b);
  }

  override _transform(data: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      if (!this.streaming) { this.emitData(data); cb(); return; }
      let i = 0;
      while (i < data.length) {
        switch (this.state) {
          case 'line':
          case 'trailer': {
            const nl = data.indexOf(0x0a, i);
            const end = nl < 0 ? data.length : nl + 1;
            this.line = Buffer.concat([this.line, data.subarray(i, end)]);
            i = end;
            if (this.line.length > MAX_LINE) throw new S3Error('IncompleteBody', 'aws-chunked framing line too long');
            if (nl < 0) break;
            const text = this.line.toString('latin1').replace(/\r?\n$/, '');
            this.line = Buffer.alloc(0);
            if (this.state === 'line') this.startChunk(text);
            else this.trailerLine(text);
            break;
          }
          case 'data': {
            const n = Math.min(this.remaining, data.length - i);
            this.emitData(data.subarray(i, i + n));
            this.remaining -= n;
            i += n;
            if (this.remaining === 0) { this.endChunk(); this.state = 'crlf'; this.line = Buffer.alloc(0); }
            break;
          }
          case 'crlf': {
            const need = 2 - this.line.length;
            this.line = Buffer.concat([this.line, data.subarray(i, i + need)]);
            i += Math.min(need, data.length - i);
            if (this.line.length === 2) {
              if (this.line.toString('latin1') !== '\r\n') throw new S3Error('IncompleteBody', 'aws-chunked: CRLF expected after chunk data');
              this.line = Buffer.alloc(0);
              this.state = 'line';
            }
            break;
          }
          case 'done':
            // Bytes after the final chunk: only blank lines are tolerated.
            if (data.subarray(i).toString('latin1').trim() !== '') throw new S3Error('IncompleteBody', 'data after the final aws-chunked chunk');
            i = data.length;
            break;
        }
      }
      cb();
    } catch (e) { cb(e as Error); }
  }

  private startChunk(text: string): void {
    const [sizeHex, ...exts] = text.split(';');
    if (!sizeHex || !/^[0-9a-fA-F]{1,16}$/.test(sizeHex.trim())) throw new S3Error('IncompleteBody', 'aws-chunked: bad chunk size line');
    const size = Number.parseInt(sizeHex.trim(), 16);
    this.chunkSig = '';
    for (const e of exts) {
      const [k, v] = e.split('=');
      if (k?.trim() === 'chunk-signature') this.chunkSig = (v ?? '').trim();
    }
    if (this.signedChunks && !/^[0-9a-f]{64}$/.test(this.chunkSig)) throw new S3Error('SignatureDoesNotMatch', 'aws-chunked: chunk signature missing');
    this.chunkHash = this.signedChunks ? createHash('sha256') : undefined;
    if (size === 0) {
      this.endChunk();
      // Trailer lines (if any) and a blank line follow the final chunk in every form.
      this.state = 'trailer';
      return;
    }
    this.remaining = size;
    this.state = 'data';
  }

  private endChunk(): void {
    if (!this.signedChunks) return;
    const hex = this.chunkHash ? this.chunkHash.digest('hex') : EMPTY_SHA256;
    this.chunkHash = undefined;
    const { amzDate, scope, signingKey } = this.opts.auth;
    const expected = signHex(signingKey, chunkStringToSign(amzDate, scope, this.prevSig, hex));
    if (!sameSignature(expected, this.chunkSig)) throw new S3Error('SignatureDoesNotMatch', 'The chunk signature we calculated does not match the signature you provided.');
    this.prevSig = expected;
  }

  private trailerLine(text: string): void {
    this.trailerBytes += text.length;
    if (this.trailerBytes > MAX_TRAILER_BYTES) throw new S3Error('IncompleteBody', 'trailer too large');
    if (text === '') { this.finishTrailer(); this.state = 'done'; return; }
    this.trailerLines.push(text);
  }

  private finishTrailer(): void {
    let trailerSig: string | undefined;
    const kept: string[] = [];
    for (const l of this.trailerLines) {
      const i = l.indexOf(':');
      if (i < 0) throw new S3Error('IncompleteBody', 'malformed trailer');
      const name = l.slice(0, i).trim().toLowerCase();
      const value = l.slice(i + 1).trim();
      if (name === 'x-amz-trailer-signature') { trailerSig = value; continue; }
      kept.push(`${name}:${value}`);
      const algo = algorithmOfHeader(name);
      if (algo) {
        if (this.sumAlgorithm !== undefined && this.sumAlgorithm !== algo) throw new S3Error('InvalidRequest', `trailer ${name} was not announced by x-amz-trailer`);
        this.expectedTrailerSum = value;
      }
    }
    const p = this.opts.auth.payload;
    if (p.kind === 'streaming' && p.signed && p.trailer) {
      const { amzDate, scope, signingKey } = this.opts.auth;
      const expected = signHex(signingKey, trailerStringToSign(amzDate, scope, this.prevSig, sha256Hex(kept.map((l) => `${l}\n`).join(''))));
      if (trailerSig === undefined || !sameSignature(expected, trailerSig)) throw new S3Error('SignatureDoesNotMatch', 'The trailer signature we calculated does not match the signature you provided.');
    }
  }

  private expectedTrailerSum: string | undefined;

  override _flush(cb: TransformCallback): void {
    try {
      const p0 = this.opts.auth.payload;
      const lenientEnd = this.state === 'trailer' && this.trailerLines.length === 0 && this.line.length === 0 && p0.kind === 'streaming' && !p0.trailer;
      if (this.streaming && this.state !== 'done' && !lenientEnd) throw new S3Error('IncompleteBody', 'The request body terminated unexpectedly');
      if (this.opts.length !== undefined && this.bytes !== this.opts.length) throw new S3Error('IncompleteBody', `You did not provide the number of bytes specified by the Content-Length HTTP header (${this.bytes} of ${this.opts.length})`);
      const p = this.opts.auth.payload;
      if (p.kind === 'sha256' && this.sha256!.digest('hex') !== p.hex) throw new S3Error('XAmzContentSHA256Mismatch', 'The provided \'x-amz-content-sha256\' header does not match what was computed.');
      if (this.md5) {
        const got = this.md5.digest('base64');
        this.computed.md5 = got;
        if (got !== this.opts.contentMd5) throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.');
      }
      if (this.sum && this.sumAlgorithm) {
        const got = this.sum.digest();
        const want = this.opts.checksum?.value ?? this.expectedTrailerSum;
        const computeOnly = this.opts.checksum === undefined && this.opts.trailerChecksum === undefined;
        if (want === undefined && !computeOnly) throw new S3Error('InvalidRequest', `x-amz-checksum-${this.sumAlgorithm} announced in x-amz-trailer is missing from the trailer`);
        if (!computeOnly && got !== want) throw new S3Error('BadDigest', `The x-amz-checksum-${this.sumAlgorithm} you specified did not match the calculated checksum.`);
        this.computed.checksum = { algorithm: this.sumAlgorithm, value: got };
      }
      cb();
    } catch (e) { cb(e as Error); }
  }
}
