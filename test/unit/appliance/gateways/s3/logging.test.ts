/**
 * Unit tests of server access log lines (logging.ts): the requester field is the access key,
 * or "-" for an anonymous request (which has no signature version or authentication type either).
 */
import { strict as assert } from 'node:assert';
import type { S3Request } from '../../../../../appliance/gateways/s3/context';
import { logLine } from '../../../../../appliance/gateways/s3/logging';

function request(anonymous: boolean): S3Request {
  return {
    storage: { account: 'owner' },
    auth: anonymous ? { accessKey: '', account: '', anonymous: true, presigned: false } : { accessKey: 'AKID', account: 'owner', presigned: false },
    req: { socket: { remoteAddress: '::ffff:10.0.0.1' }, method: 'GET', url: '/bkt/k', httpVersion: '1.1', headers: {} },
    res: { getHeader: () => undefined },
    bucket: 'bkt', key: 'k', reqId: 'REQ', op: 'GetObject', query: new Map(),
    header: () => undefined,
  } as unknown as S3Request;
}

describe('s3/logging: access log lines', () => {
  it('names the requester by its access key, or "-" when anonymous', () => {
    const now = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
    const signed = logLine(request(false), 200, undefined, 3, now).split(' ');
    assert.equal(signed[0], 'owner');
    assert.equal(signed[5], 'AKID');
    assert.ok(signed.includes('SigV4') && signed.includes('AuthHeader'));
    const anon = logLine(request(true), 403, 'AccessDenied', 3, now).split(' ');
    assert.equal(anon[5], '-');
    assert.ok(!anon.includes('SigV4') && !anon.includes('AuthHeader'));
  });
});
