/**
 * @module gateways/s3/logging-policy
 * The permission to deliver server access logs into a target bucket, as S3 grants it: a
 * statement of the target bucket's policy allowing the service principal
 * `logging.s3.amazonaws.com` to `s3:PutObject` under the target prefix, with its conditions on
 * `aws:SourceArn` (the source bucket, `arn:aws:s3:::SOURCE`) and `aws:SourceAccount` (the
 * source bucket's account) holding; a Deny statement for the service that matches takes it
 * away. Statements naming a service principal never match a user's request (policy.ts hands
 * them here): they are only read when logging is set up and when logs are delivered.
 */
import { S3Error } from './errors';

export const LOG_DELIVERY_SERVICE = 'logging.s3.amazonaws.com';

/** What a log delivery is: from a source bucket of an account into a target bucket and prefix. */
export interface LogDeliveryRequest { targetBucket: string; prefix: string; sourceBucket: string; sourceAccount: string }

const SERVICE_OPERATORS = ['ArnLike', 'ArnEquals', 'ArnNotLike', 'ArnNotEquals', 'StringEquals', 'StringNotEquals', 'StringLike', 'StringNotLike'];
const SERVICE_KEYS = ['aws:sourcearn', 'aws:sourceaccount'];

const malformed = (message: string): never => { throw new S3Error('MalformedPolicy', message); };
const strings = (v: unknown): string[] => (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');

/** `*` and `?` wildcards (ARNs and StringLike; IAM's ArnEquals takes them too). */
function like(pattern: string, value: string): boolean {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's').test(value);
}

/** Whether a raw policy statement names a service principal (`{"Service": ...}`). */
export function isServiceStatement(st: Record<string, unknown>): boolean {
  const p = st.Principal;
  return typeof p === 'object' && p !== null && !Array.isArray(p) && Object.keys(p).length === 1 && Object.keys(p)[0] === 'Service';
}

/**
 * Checks a service statement when its policy is put (MalformedPolicy when it cannot be read;
 * NotImplemented for conditions the delivery would not evaluate: never silently ignored).
 */
export function checkServiceStatement(st: Record<string, unknown>): void {
  if (st.Effect !== 'Allow' && st.Effect !== 'Deny') malformed('Invalid effect');
  if (strings((st.Principal as Record<string, unknown>).Service).length === 0) malformed('Principal.Service must be a string or a list of strings');
  if (st.Action === undefined || strings(st.Action).length === 0) malformed('A statement for a service needs Action');
  if (st.Resource === undefined || strings(st.Resource).length === 0) malformed('A statement for a service needs Resource');
  if (st.Condition === undefined) return;
  if (typeof st.Condition !== 'object' || st.Condition === null) malformed('Condition must be an object');
  for (const [op, block] of Object.entries(st.Condition as Record<string, unknown>)) {
    if (!SERVICE_OPERATORS.includes(op)) throw new S3Error('NotImplemented', `policy condition operator ${op} is not implemented for service principals`);
    if (typeof block !== 'object' || block === null) malformed(`Condition ${op} must be an object`);
    for (const key of Object.keys(block as Record<string, unknown>)) {
      if (!SERVICE_KEYS.includes(key.toLowerCase())) throw new S3Error('NotImplemented', `policy condition key ${key} is not implemented for service principals`);
    }
  }
}

/** Whether one service statement applies to a delivery (principal, action, resource, conditions). */
function applies(st: Record<string, unknown>, d: LogDeliveryRequest): boolean {
  if (!isServiceStatement(st) || !strings((st.Principal as Record<string, unknown>).Service).includes(LOG_DELIVERY_SERVICE)) return false;
  if (!strings(st.Action).some((a) => like(a.toLowerCase(), 's3:putobject'))) return false;
  // The resource names the prefix itself, or every key under it.
  const base = `arn:aws:s3:::${d.targetBucket}/${d.prefix}`;
  if (!strings(st.Resource).some((x) => like(x, base) || like(x, `${base}\u0000`))) return false;
  const values: Record<string, string> = { 'aws:sourcearn': `arn:aws:s3:::${d.sourceBucket}`, 'aws:sourceaccount': d.sourceAccount };
  for (const [op, block] of Object.entries((st.Condition ?? {}) as Record<string, Record<string, unknown>>)) {
    for (const [key, want] of Object.entries(block)) {
      const value = values[key.toLowerCase()];
      if (value === undefined) return false;
      const exact = op === 'StringEquals' || op === 'StringNotEquals';
      const hit = strings(want).some((w) => (exact ? w === value : like(w, value)));
      if (op.includes('Not') ? hit : !hit) return false;
    }
  }
  return true;
}

/** Whether a target bucket's policy (its JSON text, if any) lets S3 deliver these logs. */
export function allowsLogDelivery(policy: string | undefined, d: LogDeliveryRequest): boolean {
  if (!policy) return false;
  let doc: { Statement?: unknown };
  try { doc = JSON.parse(policy) as { Statement?: unknown }; } catch { return false; }
  const statements = (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]).filter((s): s is Record<string, unknown> => typeof s === 'object' && s !== null);
  const matching = statements.filter((s) => applies(s, d));
  return matching.some((s) => s.Effect === 'Allow') && !matching.some((s) => s.Effect === 'Deny');
}
