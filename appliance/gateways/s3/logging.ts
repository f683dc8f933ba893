/**
 * @module gateways/s3/logging
 * Server access logging (PUT/GET /bucket?logging): a bucket with a LoggingEnabled target gets a
 * line in S3's server access log format for every request made to it, delivered as objects in
 * the target bucket every `s3.log_delivery_interval`, or sooner once 1 MiB of lines waits:
 * `<TargetPrefix>YYYY-MM-DD-HH-MM-SS-<random>` (SimplePrefix), or with PartitionedPrefix
 * `<TargetPrefix><account>/<region>/<bucket>/YYYY/MM/DD/YYYY-MM-DD-HH-MM-SS-<random>` (the date
 * of delivery, or of the first request of the object with EventTime). As in S3, the target
 * bucket's policy must let `logging.s3.amazonaws.com` put objects under the prefix for this
 * source bucket and account (logging-policy.ts): checked when logging is set up (AccessDenied)
 * and at each delivery (lines dropped). The target may be another account's bucket (bucket
 * names are per account here: the requester's own first). Each gateway delivers the lines of
 * the requests it served, under names of its own; delivery is best effort (lines waiting when
 * a gateway dies are lost).
 */
import type { ObjectStorage } from '../../client/object-storage';
import type { ContainerInfo } from '../../common/model';
import { isNotFound, randomHex, type Logger } from '../../common';
import { BUCKET_PROP, bucketJson, S3Request, bucketInfo, cachedBucketInfo, setBucketProperty, readXml, sendEmpty, sendXml } from './context';
import { S3Error } from './errors';
import { LOG_DELIVERY_SERVICE, allowsLogDelivery } from './logging-policy';
import { lockConfigOf } from './object-lock';
import { bucketEncryptionOf } from './sse';
import { child, childText, doc, el, txt } from './xml';

export interface LoggingTarget {
  bucket: string;
  prefix: string;
  /** the target bucket's account, when not the source bucket's */
  account?: string;
  /** PartitionedPrefix and its date source; SimplePrefix when absent */
  partitioned?: 'EventTime' | 'DeliveryTime';
}

const FLUSH_BYTES = 1024 * 1024;

/** A bucket's logging target, or undefined. */
export function loggingOf(properties: Record<string, string>): LoggingTarget | undefined {
  return bucketJson<LoggingTarget>(properties, 'logging');
}

const malformedXml = (): never => { throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema'); };

/** The target bucket: the requester's own, else the first account (of the S3 users) that has it. */
async function locateTarget(r: S3Request, bucket: string): Promise<{ account: string; info: ContainerInfo }> {
  const missing = (e: unknown) => isNotFound(e) || (e instanceof S3Error && e.s3Code === 'NoSuchBucket');
  try { return { account: r.storage.account, info: await bucketInfo(r, bucket) }; } catch (e) { if (!missing(e)) throw e; }
  const accounts = [...new Set((await r.storage.userList()).map((u) => u.account))].filter((a) => a !== r.storage.account).sort();
  for (const account of accounts) {
    try { return { account, info: await cachedBucketInfo(r.gw, r.storage.forAccount(account), bucket) }; } catch (e) { if (!missing(e)) throw e; }
  }
  throw new S3Error('InvalidTargetBucketForLogging', 'The target bucket for logging does not exist', { TargetBucket: bucket });
}

/** PUT /bucket?logging (an empty BucketLoggingStatus turns logging off) */
export async function putBucketLogging(r: S3Request): Promise<void> {
  const x = (await readXml(r))!;
  if (x.name !== 'BucketLoggingStatus') malformedXml();
  await bucketInfo(r);
  const on = child(x, 'LoggingEnabled');
  let target: LoggingTarget | undefined;
  if (on) {
    const bucket = childText(on, 'TargetBucket');
    if (!bucket) throw new S3Error('MalformedXML', 'LoggingEnabled needs a TargetBucket');
    const prefix = childText(on, 'TargetPrefix') ?? '';
    // Grants to the bucket owner change nothing (it has full control of its logs); to others
    // they would be promises not kept.
    for (const g of child(on, 'TargetGrants')?.children ?? []) {
      if (childText(child(g, 'Grantee') ?? g, 'ID') !== r.storage.account) throw new S3Error('NotImplemented', 'grants on log objects to others than the bucket owner are not implemented');
    }
    let partitioned: LoggingTarget['partitioned'];
    const format = child(on, 'TargetObjectKeyFormat');
    if (format) {
      const p = child(format, 'PartitionedPrefix');
      if (p && child(format, 'SimplePrefix')) malformedXml();
      if (p) {
        const source = childText(p, 'PartitionDateSource') ?? 'DeliveryTime';
        if (source !== 'EventTime' && source !== 'DeliveryTime') malformedXml();
        partitioned = source as LoggingTarget['partitioned'];
      } else if (!child(format, 'SimplePrefix')) malformedXml();
    }
    const { account, info } = await locateTarget(r, bucket);
    // Targets S3 refuses: encrypted by default with KMS, or with a default retention.
    if (bucketEncryptionOf(info.properties)?.algorithm.startsWith('aws:kms')) throw new S3Error('InvalidArgument', 'The target bucket for logging must not use default encryption with SSE-KMS', { ArgumentName: 'TargetBucket', ArgumentValue: bucket });
    const lock = lockConfigOf(info);
    if (lock?.mode !== undefined) throw new S3Error('InvalidArgument', 'The target bucket for logging must not have a default Object Lock retention period', { ArgumentName: 'TargetBucket', ArgumentValue: bucket });
    if (!allowsLogDelivery(info.properties[BUCKET_PROP.policy], { targetBucket: bucket, prefix, sourceBucket: r.bucket!, sourceAccount: r.storage.account })) {
      throw new S3Error('AccessDenied', `Access Denied: the policy of the target bucket must allow ${LOG_DELIVERY_SERVICE} to PutObject under the target prefix for this source bucket and account`);
    }
    target = { bucket, prefix, ...(account !== r.storage.account ? { account } : {}), ...(partitioned ? { partitioned } : {}) };
  }
  await setBucketProperty(r, 'logging', target ? JSON.stringify(target) : '');
  sendEmpty(r, 200);
}

/** GET /bucket?logging */
export async function getBucketLogging(r: S3Request): Promise<void> {
  const t = loggingOf((await bucketInfo(r)).properties);
  const format = t && el('TargetObjectKeyFormat', t.partitioned ? el('PartitionedPrefix', txt('PartitionDateSource', t.partitioned)) : el('SimplePrefix'));
  sendXml(r, 200, doc('BucketLoggingStatus', t ? el('LoggingEnabled', txt('TargetBucket', t.bucket), txt('TargetPrefix', t.prefix), format) : undefined));
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
    quoted(r.header('referer')), quoted(r.header('user-agent')), version === undefined ? '-' : String(version), '-', r.auth.anonymous ? '-' : r.auth.sigV2 ? 'SigV2' : 'SigV4', '-', r.auth.anonymous ? '-' : r.auth.presigned ? 'QueryString' : 'AuthHeader', r.header('host') ?? '-', tls, '-', '-',
  ].join(' ');
}

/** Log lines waiting for delivery, by source bucket and target, written as objects in their target bucket. */
export class LogDelivery {
  private readonly waiting = new Map<string, { account: string; source: string; target: LoggingTarget; lines: string[]; bytes: number; firstAt: Date }>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(private readonly base: ObjectStorage, private readonly log: Logger, private readonly intervalMs: number, private readonly region = 'us-east-1') {}

  start(): void {
    this.timer = setInterval(() => { void this.flush(); }, this.intervalMs);
    this.timer.unref();
  }

  /** Queues the line of a request to bucket `source` of `account`, logging to `target`. */
  add(account: string, source: string, target: LoggingTarget, line: string): void {
    const k = `${account}\n${source}\n${target.account ?? account}\n${target.bucket}\n${target.prefix}\n${target.partitioned ?? ''}`;
    let w = this.waiting.get(k);
    if (!w) { w = { account, source, target, lines: [], bytes: 0, firstAt: new Date() }; this.waiting.set(k, w); }
    w.lines.push(line);
    w.bytes += line.length + 1;
    if (w.bytes >= FLUSH_BYTES) void this.flush();
  }

  /** Writes every waiting batch as one object each, where the target's policy still allows it. */
  flush(): Promise<void> {
    this.flushing ??= (async () => {
      const batches = [...this.waiting.values()];
      this.waiting.clear();
      for (const b of batches) {
        const now = new Date();
        const t = b.target;
        const stamp = (d: Date) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}-${pad(d.getUTCHours())}-${pad(d.getUTCMinutes())}-${pad(d.getUTCSeconds())}`;
        const day = t.partitioned === 'EventTime' ? b.firstAt : now;
        const partition = t.partitioned ? `${b.account}/${this.region}/${b.source}/${day.getUTCFullYear()}/${pad(day.getUTCMonth() + 1)}/${pad(day.getUTCDate())}/` : '';
        const name = `${t.prefix}${partition}${stamp(now)}-${randomHex(8).toUpperCase()}`;
        const storage = this.base.forAccount(t.account ?? b.account);
        try {
          const info = await storage.containerShow(t.bucket);
          if (!allowsLogDelivery(info.properties[BUCKET_PROP.policy], { targetBucket: t.bucket, prefix: t.prefix, sourceBucket: b.source, sourceAccount: b.account })) {
            this.log.warn('access log delivery not allowed by the target bucket\'s policy: lines dropped', { bucket: t.bucket, lines: b.lines.length });
            continue;
          }
          await storage.objectPut(t.bucket, name, Buffer.from(`${b.lines.join('\n')}\n`), { mime: 'text/plain' });
        } catch (e) {
          this.log[isNotFound(e) ? 'info' : 'warn']('access log delivery failed', { bucket: t.bucket, lines: b.lines.length, err: e as Error });
        }
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
