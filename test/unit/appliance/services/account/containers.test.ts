/**
 * Unit: container rows of the account backend: a container's creation time stays what the first
 * update said while later updates move its mtime, and a container made again after a delete is
 * a new one.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AccountBackend } from '../../../../../appliance/services/account';

describe('account backend: containers', () => {
  let dir: string;
  let b: AccountBackend;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'acct-containers-')); b = AccountBackend.open(dir); });
  afterEach(() => { b.close(); fs.rmSync(dir, { recursive: true, force: true }); });

  const row = (name: string) => b.containers('acct').containers.find((c) => c.name === name);

  it('keeps the creation time across updates, and starts it again after a delete', () => {
    b.containerUpdate({ id: 'acct', container: 'photos', objects: 0, bytes: 0, mtime: 1000 }, 1000);
    b.containerUpdate({ id: 'acct', container: 'photos', objects: 5, bytes: 500, mtime: 2000 }, 2000);
    // A late update older than the stored one changes nothing.
    b.containerUpdate({ id: 'acct', container: 'photos', objects: 1, bytes: 1, mtime: 1500 }, 2100);
    assert.deepEqual(row('photos'), { name: 'photos', objects: 5, bytes: 500, mtime: 2000, ctime: 1000 });
    b.containerUpdate({ id: 'acct', container: 'photos', objects: 0, bytes: 0, mtime: 3000, deleted: true }, 3000);
    assert.equal(row('photos'), undefined);
    b.containerUpdate({ id: 'acct', container: 'photos', objects: 0, bytes: 0, mtime: 4000 }, 4000);
    assert.deepEqual(row('photos'), { name: 'photos', objects: 0, bytes: 0, mtime: 4000, ctime: 4000 });
    // Updates since the delete, in any order: the least mtime after the delete.
    b.containerUpdate({ id: 'acct', container: 'photos', objects: 2, bytes: 2, mtime: 4500 }, 4500);
    b.containerUpdate({ id: 'acct', container: 'photos', objects: 1, bytes: 1, mtime: 3500 }, 4600);
    b.containerUpdate({ id: 'acct', container: 'photos', objects: 9, bytes: 9, mtime: 2500 }, 4700); // before the delete
    assert.deepEqual(row('photos'), { name: 'photos', objects: 2, bytes: 2, mtime: 4500, ctime: 3500 });
    // Kept across a reopen.
    b.close();
    b = AccountBackend.open(dir);
    assert.equal(row('photos')?.ctime, 3500);
  });
});
