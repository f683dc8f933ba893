/** Unit tests of the bridge layer's pure parts: path mapping, the inode table, the errno column. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ERROR_CODES, OioError, type ErrorCode } from '../../../appliance/common';
import { ERRNO, ERRNO_OF_CODE, InodeTable, ROOT_INO, attrProps, checkName, childPath, createBridgeFs, errnoOf, propAttrs, splitPath } from '../../../fs-bridge/core';
import { ObjectStorage } from '../../../appliance/client/object-storage';
import { tmpDir } from '../../helpers/tmp';

describe('fs-bridge/core path mapping', () => {
  it('maps a directory path and a name onto an object path', () => {
    assert.equal(childPath('', 'a'), 'a');
    assert.equal(childPath('a/b', 'file'), 'a/b/file');
    assert.deepEqual(splitPath('a/b/file'), { dir: 'a/b', name: 'file' });
    assert.deepEqual(splitPath('file'), { dir: '', name: 'file' });
  });

  it('refuses names that would escape or corrupt the mapping', () => {
    for (const bad of ['', '.', '..', 'a/b', '/', 'x\0y', '../etc']) {
      assert.throws(() => checkName(bad), (e: OioError) => e.code === 'INVALID_NAME', bad);
    }
    assert.throws(() => checkName('x'.repeat(256)), (e: unknown) => errnoOf(e) === ERRNO.ENAMETOOLONG);
    assert.equal(checkName('x'.repeat(255)), 'x'.repeat(255));
    assert.equal(checkName('été ☃'), 'été ☃');
  });

  it('keeps POSIX attributes in properties and reads them back', () => {
    const p = attrProps({ mode: 0o100755, uid: 1000, gid: 50, mtimeMs: 1234567.4, symlink: '../t' });
    assert.equal(p['fs.mode'], '755');
    assert.deepEqual(propAttrs(p), { mode: 0o755, uid: 1000, gid: 50, mtimeMs: 1234567, atimeMs: undefined, symlink: '../t' });
    assert.deepEqual(propAttrs({ 'fs.mode': 'zz' }).mode, undefined);
  });
});

describe('fs-bridge/core inode table', () => {
  it('gives permanent numbers, kept across a reopen and across renames', () => {
    const file = path.join(tmpDir('inodes-'), 'i.db');
    let t = new InodeTable(file, { ctr: 'c', path: '' });
    assert.equal(t.inoOf({ ctr: 'c', path: '' }), ROOT_INO);
    const a = t.inoOf({ ctr: 'c', path: 'a' });
    const ab = t.inoOf({ ctr: 'c', path: 'a/b' });
    const abc = t.inoOf({ ctr: 'c', path: 'a/b/c' });
    const ax = t.inoOf({ ctr: 'c', path: 'ax' });
    assert.equal(t.inoOf({ ctr: 'c', path: 'a/b' }), ab);
    assert.equal(new Set([ROOT_INO, a, ab, abc, ax]).size, 5);
    t.close();
    t = new InodeTable(file, { ctr: 'c', path: '' });
    assert.equal(t.find({ ctr: 'c', path: 'a/b/c' }), abc);
    const victim = t.inoOf({ ctr: 'c', path: 'z/b' });
    t.rename({ ctr: 'c', path: 'a' }, { ctr: 'c', path: 'z' });
    assert.deepEqual(t.locOf(a), { ctr: 'c', path: 'z' });
    assert.deepEqual(t.locOf(ab), { ctr: 'c', path: 'z/b' });
    assert.deepEqual(t.locOf(abc), { ctr: 'c', path: 'z/b/c' });
    assert.deepEqual(t.locOf(ax), { ctr: 'c', path: 'ax' }, 'a sibling sharing the prefix stays');
    assert.equal(t.locOf(victim), undefined, 'the overwritten destination is forgotten');
    t.remove({ ctr: 'c', path: 'ax' });
    assert.equal(t.locOf(ax), undefined);
    const fresh = t.inoOf({ ctr: 'c', path: 'ax' });
    assert.ok(fresh > victim, 'a number is never given again');
    t.close();
    assert.throws(() => new InodeTable(file, { ctr: 'other', path: '' }), (e: OioError) => e.code === 'BAD_REQUEST');
  });
});

describe('fs-bridge/core errno', () => {
  it('maps every error code (STYLE §4 column)', () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) assert.ok(ERRNO_OF_CODE[code] > 0, code);
    assert.equal(errnoOf(new OioError('CONTENT_NOT_FOUND', 'x')), ERRNO.ENOENT);
    assert.equal(errnoOf(new OioError('CONTAINER_NOT_EMPTY', 'x')), ERRNO.ENOTEMPTY);
    assert.equal(errnoOf(new OioError('CONTENT_EXISTS', 'x')), ERRNO.EEXIST);
    assert.equal(errnoOf(new OioError('NOT_ALLOWED', 'x')), ERRNO.EACCES);
    assert.equal(errnoOf(new OioError('NO_SPACE', 'x')), ERRNO.ENOSPC);
    assert.equal(errnoOf(new OioError('QUOTA_EXCEEDED', 'x')), ERRNO.EDQUOT);
    assert.equal(errnoOf(new OioError('NOT_IMPLEMENTED', 'x')), ERRNO.ENOSYS);
    assert.equal(errnoOf(new OioError('BAD_REQUEST', 'x', { details: { reason: 'not_dir' } })), ERRNO.ENOTDIR);
    assert.equal(errnoOf(new Error('boom')), ERRNO.EIO);
  });
});

describe('fs-bridge/core spool folder', () => {
  it('removes the spool files a dead process left, and nothing else, when a bridge starts', async () => {
    const dir = tmpDir('bridge-spool-');
    const spoolDir = path.join(dir, 'spool');
    fs.mkdirSync(spoolDir);
    fs.writeFileSync(path.join(spoolDir, '42-0123456789ab'), 'unflushed bytes of a killed bridge');
    fs.writeFileSync(path.join(spoolDir, '7-ffffffffffff'), '');
    fs.writeFileSync(path.join(spoolDir, 'notes.txt'), 'not a spool file');
    // The storage is never called: the bridge only opens its inode base and its spool folder.
    const b = createBridgeFs({ storage: new ObjectStorage({ proxy: '127.0.0.1:1', account: 'a' }), container: 'c', stateDir: dir, spoolDir });
    assert.deepEqual(fs.readdirSync(spoolDir), ['notes.txt']);
    await b.close();
  });
});
