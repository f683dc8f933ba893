/**
 * Unit: users (S3 credentials) in the account backend: generated and given keys, the
 * replace rule, lists without secrets, deletion, persistence across a reopen.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OioError } from '../../../../../appliance/common';
import { AccountBackend } from '../../../../../appliance/services/account';

describe('account backend: users', () => {
  let dir: string;
  let b: AccountBackend;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'acct-users-')); b = AccountBackend.open(dir); });
  afterEach(() => { b.close(); fs.rmSync(dir, { recursive: true, force: true }); });

  const codeOf = (fn: () => unknown) => { try { fn(); return undefined; } catch (e) { return (e as OioError).code; } };

  it('creates a user with generated keys and creates its account', () => {
    const u = b.userCreate({ account: 'alice' }, 1000);
    assert.match(u.access_key, /^[A-Z0-9]{20}$/);
    assert.ok((u.secret_key ?? '').length >= 32);
    assert.equal(b.show('alice').id, 'alice');
    assert.deepEqual(b.userShow(u.access_key), { access_key: u.access_key, secret_key: u.secret_key, account: 'alice', ctime: 1000 });
  });

  it('refuses an existing key unless replace, and keeps its ctime when replaced', () => {
    b.userCreate({ access_key: 'demo', secret_key: 'demosecretkey123', account: 'default' }, 1000);
    assert.equal(codeOf(() => b.userCreate({ access_key: 'demo', secret_key: 'othersecret99', account: 'default' }, 2000)), 'BAD_REQUEST');
    const r = b.userCreate({ access_key: 'demo', secret_key: 'othersecret99', account: 'other', replace: true }, 2000);
    assert.deepEqual(r, { access_key: 'demo', secret_key: 'othersecret99', account: 'other', ctime: 1000 });
  });

  it('validates keys and account names', () => {
    assert.equal(codeOf(() => b.userCreate({ access_key: 'a b', account: 'x' }, 1)), 'BAD_REQUEST');
    assert.equal(codeOf(() => b.userCreate({ access_key: 'okkey', secret_key: 'short', account: 'x' }, 1)), 'BAD_REQUEST');
    assert.equal(codeOf(() => b.userCreate({ access_key: 'okkey', account: '' }, 1)), 'INVALID_NAME');
  });

  it('lists users without secrets, by account, deletes them, and keeps them across a reopen', () => {
    b.userCreate({ access_key: 'key1', secret_key: 'secret-one-1', account: 'a' }, 1);
    b.userCreate({ access_key: 'key2', secret_key: 'secret-two-2', account: 'b' }, 2);
    assert.deepEqual(b.userList(), [{ access_key: 'key1', account: 'a', ctime: 1 }, { access_key: 'key2', account: 'b', ctime: 2 }]);
    assert.deepEqual(b.userList('b').map((u) => u.access_key), ['key2']);
    b.userDelete('key1', 3);
    assert.equal(codeOf(() => b.userShow('key1')), 'ACCOUNT_NOT_FOUND');
    assert.equal(codeOf(() => b.userDelete('key1', 4)), 'ACCOUNT_NOT_FOUND');
    b.close();
    b = AccountBackend.open(dir);
    assert.equal(b.userShow('key2').secret_key, 'secret-two-2');
  });
});
