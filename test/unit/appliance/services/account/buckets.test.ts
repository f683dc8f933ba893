/**
 * Unit: the global S3 bucket namespace in the account backend: reserve (first owner wins, the
 * owner answered), release (only by the owner), show, persistence across a reopen.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OioError } from '../../../../../appliance/common';
import { AccountBackend } from '../../../../../appliance/services/account';

describe('account backend: buckets', () => {
  let dir: string;
  let b: AccountBackend;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'acct-buckets-')); b = AccountBackend.open(dir); });
  afterEach(() => { b.close(); fs.rmSync(dir, { recursive: true, force: true }); });

  const codeOf = (fn: () => unknown) => { try { fn(); return undefined; } catch (e) { return (e as OioError).code; } };

  it('reserves a free name and answers the existing owner when taken', () => {
    assert.deepEqual(b.bucketReserve({ name: 'photos', account: 'alice' }, 1000), { name: 'photos', account: 'alice', ctime: 1000 });
    assert.deepEqual(b.bucketReserve({ name: 'photos', account: 'bob' }, 2000), { name: 'photos', account: 'alice', ctime: 1000 });
    assert.deepEqual(b.bucketReserve({ name: 'photos', account: 'alice' }, 3000), { name: 'photos', account: 'alice', ctime: 1000 });
    assert.deepEqual(b.bucketShow('photos'), { name: 'photos', account: 'alice', ctime: 1000 });
  });

  it('releases only for the owner; an unknown name is CONTAINER_NOT_FOUND', () => {
    b.bucketReserve({ name: 'photos', account: 'alice' }, 1000);
    assert.equal(b.bucketRelease({ name: 'photos', account: 'bob' }, 2000), false);
    assert.equal(b.bucketShow('photos').account, 'alice');
    assert.equal(b.bucketRelease({ name: 'photos', account: 'alice' }, 3000), true);
    assert.equal(codeOf(() => b.bucketShow('photos')), 'CONTAINER_NOT_FOUND');
    assert.equal(b.bucketReserve({ name: 'photos', account: 'bob' }, 4000).account, 'bob');
  });

  it('validates names and keeps reservations across a reopen', () => {
    assert.equal(codeOf(() => b.bucketReserve({ name: '', account: 'alice' }, 1)), 'INVALID_NAME');
    assert.equal(codeOf(() => b.bucketReserve({ name: 'x', account: '' }, 1)), 'INVALID_NAME');
    b.bucketReserve({ name: 'kept', account: 'alice' }, 5);
    b.close();
    b = AccountBackend.open(dir);
    assert.equal(b.bucketShow('kept').account, 'alice');
  });
});
