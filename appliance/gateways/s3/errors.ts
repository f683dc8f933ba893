/**
 * @module gateways/s3/errors
 * The S3 column of the error table: every internal code mapped once (`Record<ErrorCode, …>`,
 * so a new code does not compile until it is mapped here), the S3-only errors, and the XML
 * error body (with RequestId). Internal messages of INTERNAL errors never leak.
 */
import type { ErrorCode } from '../../common';
import { isOioError, toOioError } from '../../common';
import { escapeXml } from './xml';

/** S3 error codes this gateway answers, with their HTTP status. */
export const S3_ERRORS = {
  AccessDenied: 403,
  AccessForbidden: 403,
  AuthorizationHeaderMalformed: 400,
  AuthorizationQueryParametersError: 400,
  BadDigest: 400,
  BadRequest: 400,
  BucketAlreadyExists: 409,
  BucketAlreadyOwnedByYou: 409,
  BucketNotEmpty: 409,
  EntityTooLarge: 400,
  EntityTooSmall: 400,
  ExpiredToken: 400,
  IncompleteBody: 400,
  InternalError: 500,
  InvalidAccessKeyId: 403,
  InvalidArgument: 400,
  InvalidBucketName: 400,
  InvalidDigest: 400,
  InvalidLocationConstraint: 400,
  InvalidObjectState: 403,
  InvalidURI: 400,
  InvalidPart: 400,
  InvalidPolicyDocument: 400,
  InvalidPartOrder: 400,
  InvalidRange: 416,
  InvalidRedirectLocation: 400,
  InvalidRequest: 400,
  InvalidRetentionPeriod: 400,
  InvalidStorageClass: 400,
  InvalidTargetBucketForLogging: 400,
  MalformedPolicy: 400,
  InvalidEncryptionAlgorithmError: 400,
  InvalidBucketState: 409,
  NoSuchObjectLockConfiguration: 404,
  AccessControlListNotSupported: 400,
  InvalidBucketAclWithObjectOwnership: 400,
  MalformedACLError: 400,
  UnexpectedContent: 400,
  UnresolvableGrantByEmailAddress: 400,
  InvalidTag: 400,
  KeyTooLongError: 400,
  MalformedPOSTRequest: 400,
  MalformedXML: 400,
  MaxPostPreDataLengthExceededError: 400,
  MetadataTooLarge: 400,
  MethodNotAllowed: 405,
  MissingContentLength: 411,
  MissingSecurityHeader: 400,
  NoSuchBucket: 404,
  NoSuchCORSConfiguration: 404,
  NoSuchKey: 404,
  NoSuchTagSet: 404,
  NoSuchUpload: 404,
  NoSuchVersion: 404,
  NoSuchBucketPolicy: 404,
  NoSuchLifecycleConfiguration: 404,
  NoSuchConfiguration: 404,
  NoSuchPublicAccessBlockConfiguration: 404,
  NoSuchWebsiteConfiguration: 404,
  ObjectLockConfigurationNotFoundError: 404,
  OwnershipControlsNotFoundError: 404,
  ReplicationConfigurationNotFoundError: 404,
  ServerSideEncryptionConfigurationNotFoundError: 404,
  NotImplemented: 501,
  NotModified: 304,
  PreconditionFailed: 412,
  QuotaExceeded: 403,
  RequestHeaderSectionTooLarge: 400,
  RequestTimeout: 400,
  RequestTimeTooSkewed: 403,
  ServiceUnavailable: 503,
  SignatureDoesNotMatch: 403,
  SlowDown: 503,
  InsufficientStorage: 507,
  XAmzContentSHA256Mismatch: 400,
  TooManyBuckets: 400,
} as const;

export type S3ErrorCode = keyof typeof S3_ERRORS;

/** How each internal code answers in S3 (one table; DESIGN/STYLE §4). */
export const S3_OF_CODE: Record<ErrorCode, S3ErrorCode> = {
  ACCOUNT_NOT_FOUND: 'InvalidAccessKeyId',
  CONTAINER_NOT_FOUND: 'NoSuchBucket',
  CONTENT_NOT_FOUND: 'NoSuchKey',
  CHUNK_NOT_FOUND: 'InternalError',
  SERVICE_NOT_FOUND: 'ServiceUnavailable',
  CONTAINER_EXISTS: 'BucketAlreadyOwnedByYou',
  CONTENT_EXISTS: 'PreconditionFailed',
  CHUNK_EXISTS: 'InternalError',
  CONTAINER_NOT_EMPTY: 'BucketNotEmpty',
  INVALID_NAME: 'InvalidArgument',
  BAD_REQUEST: 'InvalidRequest',
  NOT_ALLOWED: 'AccessDenied',
  PRECONDITION_FAILED: 'PreconditionFailed',
  QUOTA_EXCEEDED: 'QuotaExceeded',
  NO_SPACE: 'InsufficientStorage',
  HASH_MISMATCH: 'BadDigest',
  POLICY_NOT_SATISFIABLE: 'ServiceUnavailable',
  NOT_MASTER: 'ServiceUnavailable',
  UNAVAILABLE: 'ServiceUnavailable',
  EXCESSIVE_LOAD: 'SlowDown',
  TIMEOUT: 'ServiceUnavailable',
  NOT_IMPLEMENTED: 'NotImplemented',
  INTERNAL: 'InternalError',
};

/** An S3 error answered as XML. `headers` are added to the answer (e.g. x-amz-delete-marker). */
export class S3Error extends Error {
  readonly status: number;
  constructor(readonly s3Code: S3ErrorCode, message: string, readonly extra: Record<string, string> = {}, readonly headers: Record<string, string> = {}) {
    super(message);
    this.name = 'S3Error';
    this.status = S3_ERRORS[s3Code];
  }
}

const DEFAULT_MESSAGES: Partial<Record<S3ErrorCode, string>> = {
  NoSuchBucket: 'The specified bucket does not exist',
  NoSuchKey: 'The specified key does not exist.',
  NoSuchUpload: 'The specified upload does not exist.',
  BucketNotEmpty: 'The bucket you tried to delete is not empty',
  BucketAlreadyOwnedByYou: 'Your previous request to create the named bucket succeeded and you already own it.',
  InternalError: 'We encountered an internal error. Please try again.',
  ServiceUnavailable: 'Please reduce your request rate.',
  PreconditionFailed: 'At least one of the pre-conditions you specified did not hold',
  InvalidAccessKeyId: 'The AWS Access Key Id you provided does not exist in our records.',
};

/** Any thrown value as an S3Error; `internal` is true for errors to log with their stack. */
export function toS3Error(e: unknown): { err: S3Error; internal: boolean } {
  if (e instanceof S3Error) return { err: e, internal: e.s3Code === 'InternalError' };
  const o = toOioError(e);
  const code = S3_OF_CODE[o.code];
  const internal = code === 'InternalError';
  const message = internal || !isOioError(e) ? (DEFAULT_MESSAGES[code] ?? code) : (DEFAULT_MESSAGES[code] ?? o.message);
  return { err: new S3Error(code, message), internal };
}

/** The XML error document. */
export function errorXml(err: S3Error, resource: string, reqId: string): string {
  const extra = Object.entries(err.extra).map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${err.s3Code}</Code><Message>${escapeXml(err.message)}</Message>${extra}<Resource>${escapeXml(resource)}</Resource><RequestId>${reqId}</RequestId></Error>`;
}
