/**
 * @module gateways/s3/logging
 * Server access logging (PUT/GET /bucket?logging): a bucket with a LoggingEnabled target gets a
 * line in S3's server access log format for every request made to it, delivered as objects
 * `<TargetPrefix>YYYY-MM-DD-HH-MM-SS-<random>` in the target bucket (of the same account) every
 * `s3.log_delivery_interval`, or sooner once 1 MiB of lines waits. Each gateway delivers the
 * lines of the requests it served, under names of its own; as in S3, delivery is best effort
 * (lines waiting when a gateway dies are lost).
 */
import type { ObjectStorage } from '../../client/object-storage';
import { isNotFound, randomHex, type Logger } from '../../common';
import { bucketJson, S3Request, bucketInfo, setBucketProperty, readXml, sendEmpty, sendXml } from './context';
import { S3Error } from './errors';
import { child, childText, doc, el, txt } from './xml';

export interface LoggingTarget { bucket: string; prefix: string }

const FLUSH_BYTES = 1024 * 1024;

/** A bucket's logging target, or undefined. */
export function loggingOf(properties: Record<string, string>): LoggingTarget | undefined {
  return bucketJson<LoggingTarget>(properties, 'logging');
}

/** PUT /bucket?logging (an empty BucketLoggingStatus turns logging off) */
export async function putBucketLogging(r: S3Request): Promise<void> {
  const x = (await readXml(r))!;
  if (x.name !== 'BucketLoggingStatus') throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
  const on = child(x, 'LoggingEnabled');
  let target: LoggingTarget | undefined;
  if (on) {
    const bucket = childText(on, 'TargetBucket');
    if (!bucket) throw new S3Error('MalformedXML', 'LoggingEnabled needs a TargetBucket');
    if (child(on, 'TargetGrants')?.children.length) throw new S3Error('NotImplemented', 'grants on log objects are not implemented (only the bucket owner reads them)');
    const format = child(on, 'TargetObjectKeyFormat');
    if (format && child(format, 'PartitionedPrefix')) throw new S3Error('NotImplemented', 'PartitionedPrefix log object keys are not implemented (SimplePrefix is)');
    await bucketInfo(r, bucket).catch((e: unknown) => {
      if (isNotFound(e) || (e instanceof S3Error && e.s3Code === 'NoSuchBucket')) throw new S3Error('InvalidTargetBucketForLogging', 'The target bucket for logging does not exist', { TargetBucket: bucket });
      throw e;
    });
    target = { bucket, prefix: childText(on, 'TargetPrefix') ?? '' };
  }
  await setBucketProperty(r, 'logging', target ? JSON.stringify(target) : '');
  sendEmpty(r, 200);
}

/** GET /bucket?logging */
export async function getBucketLogging(r: S3Request): Promise<void> {
  const t = loggingOf((await bucketInfo(r)).properties);
  sendXml(r, 200, doc('BucketLoggingStatus', t ? el('LoggingEnabled', txt('TargetBucket', t.bucket), txt('TargetPrefix', t.prefix)) : undefined));
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const quoted = (v: string | undefined) => (v ? `"${v.replace(/"/g, '\\"')}"` : '-');

/** S3's operation name of a request: REST.<METHOD>.<OBJECT|BUCKET|sub-resource>. */
function operationOf(r: S3Request): string {
  const method = r.req.method ?? 'GET';
  if (r.key !== undefined) {
    if (r.query.has('uploadId') || r.query.has('uploads')) return `REST.${method}.UPLOAD${r.query.has('partNumber') ? 'PART' : ''}`;
    const sub = ['tagging', 'acl', 'retention', 'legal-hold', 'attributes'].find((s) => r.query.has(s));
    return `REST.${method}.${sub ? sub.toUpperCase().replace('-', '_') : r.op === 'CopyObject' ? 'COPY' : 'OBJECT'}`;
  }
  const sub = [...r.query.keys()].find((k) => !['prefix', 'delimiter', 'marker', 'max-keys', 'list-type', 'continuation-token', 'start-after', 'encoding-type', 'fetch-owner', 'key-marker', 'version-id-marker', 'max-uploads', 'upload-id-marker'].includes(k));
  return `REST.${method}.${sub ? sub.toUpperCase().replace(/-/g, '_') : 'BUCKET'}`;
}

/** The access log line of a request (S3's server access log format). */
export function logLine(r: S3Request, status: number, code: string | undefined, durationMs: number, now = new Date()): string {
  const t = `[${pad(now.getUTCDate())}/${MONTHS[now.getUTCMonth()]}/${now.getUTCFullYear()}:${pad(now.getUTCHours())}:${pad(now.getUTCMinutes())}:${pad(now.getUTCSeconds())} +0000]`;
  const ip = (r.req.socket.remoteAddress ?? '-').replace(/^::ffff:/, '');
  const sent = r.res.getHeader('content-length');
  const version = r.res.getHeader('x-amz-version-id');
  const socket = r.req.socket as unknown as { encrypted?: boolean; getProtocol?: () => string | null };
  const tls = socket.encrypted ? socket.getProtocol?.() ?? '-' : '-';
  return [
    r.storage.account, r.bucket, t, ip, r.auth.anonymous ? '-' : r.auth.accessKey, r.reqId, operationOf(r), r.key === undefined ? '-' : encodeURIComponent(r.key).replace(/%2F/g, '/'),
    quoted(`${r.req.method} ${r.req.url} HTTP/${r.req.httpVersion}`), status, code ?? '-', sent === undefined || sent === '0' ? '-' : String(sent), '-', Math.round(durationMs), '-',
    quoted(r.header('referer')), quoted(r.header('user-agent')), version === undefined ? '-' : String(version), '-', r.auth.anonymous ? '-' : 'SigV4', '-', r.auth.anonymous ? '-' : r.auth.presigned ? 'QueryString' : 'AuthHeader', r.header('host') ?? '-', tls, '-', '-',
  ].join(' ');
}

/** Log lines waiting for delivery, by account and target, written as objects in their target bucket. */
export class LogDelivery {
  private readonly waiting = new Map<string, { account: string; target: LoggingTarget; lines: string[]; bytes: number }>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(private readonly base: ObjectStorage, private readonly log: Logger, private readonly intervalMs: number) {}

  start(): void {
    this.timer = setInterval(() => { void this.flush(); }, this.intervalMs);
    this.timer.unref();
  }

  /** Queues the line of a request to a bucket logging to `target`. */
  add(account: string, target: LoggingTarget, line: string): void {
    const k = `${account}\n${target.bucket}\n${target.prefix}`;
    let w = this.waiting.get(k);
    if (!w) { w = { account, target, lines: [], bytes: 0 }; this.waiting.set(k, w); }
    w.lines.push(line);
    w.bytes += line.length + 1;
    if (w.bytes >= FLUSH_BYTES) void this.flush();
  }

  /** Writes every waiting batch as one object each. */
  flush(): Promise<void> {
    this.flushing ??= (async () => {
      const batches = [...this.waiting.values()];
      this.waiting.clear();
      for (const b of batches) {
        const now = new Date();
        const name = `${b.target.prefix}${now.getUTCFullYear()}-${pad(now.getUTCMonth() + 1)}-${pad(now.getUTCDate())}-${pad(now.getUTCHours())}-${pad(now.getUTCMinutes())}-${pad(now.getUTCSeconds())}-${randomHex(8).toUpperCase()}`;
        await this.base.forAccount(b.account).objectPut(b.target.bucket, name, Buffer.from(`${b.lines.join('\n')}\n`), { mime: 'text/plain' })
          .catch((e: unknown) => this.log[isNotFound(e) ? 'info' : 'warn']('access log delivery failed', { bucket: b.target.bucket, lines: b.lines.length, err: e as Error }));
      }
    })().finally(() => { this.flushing = undefined; });
    return this.flushing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flushing;
    await this.flush();
  }
}
