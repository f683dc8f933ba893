/** @module gateways/s3 — the S3 REST gateway on the client library. */
export { S3Service, S3ServiceOptions } from './service';
