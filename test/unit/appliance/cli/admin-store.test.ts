/** Unit tests of the console credential files (real files in a temp folder, real scrypt). */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { AdminStore, parsePublicKey } from '../../../../appliance/cli';
import { isOioError } from '../../../../appliance/common';
import { tmpDir } from '../../../helpers/tmp';

// A fixed ed25519 public key (generated once with ssh-keygen) and its ssh-keygen fingerprint.
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMv0k0xn6x9C7W7o9bI5vX9kZc5p8r2ZcQyq2Yy8Y6pR alice@laptop';

describe('cli admin store', () => {
  it('parses a public key line and computes the ssh-keygen fingerprint', function () {
    const k = parsePublicKey(KEY);
    assert.equal(k.type, 'ssh-ed25519');
    assert.equal(k.comment, 'alice@laptop');
    let want: string;
    try {
      const dir = tmpDir('oio-key-');
      fs.writeFileSync(path.join(dir, 'k.pub'), KEY + '\n');
      want = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', path.join(dir, 'k.pub')], { encoding: 'utf8' }).split(' ')[1]!;
    } catch (e) {
      if (process.env.CI === 'true') throw e;
      this.skip(); // ssh-keygen (openssh-client) missing
    }
    assert.equal(k.fingerprint, want);
  });

  it('refuses text that is not a public key, or whose blob names another type', () => {
    const bad = (s: string) => assert.throws(() => parsePublicKey(s), (e: unknown) => isOioError(e) && e.code === 'BAD_REQUEST', s);
    bad('hello world');
    bad('ssh-ed25519');
    bad('ssh-dss AAAAB3NzaC1kc3MAAACBAP');
    bad(KEY.replace('ssh-ed25519', 'ssh-rsa'));
    bad('ssh-ed25519 !!!notbase64');
  });

  it('adds, lists and removes keys (by fingerprint or name), refusing duplicates', async () => {
    const store = new AdminStore(path.join(tmpDir('oio-admin-'), 'admin-ssh'));
    assert.deepEqual(await store.listKeys(), []);
    const k = await store.addKey(KEY, 'ops');
    assert.equal(k.comment, 'ops');
    await assert.rejects(store.addKey(KEY), (e: unknown) => isOioError(e) && e.code === 'CONTENT_EXISTS');
    assert.deepEqual((await store.listKeys()).map((x) => x.comment), ['ops']);
    assert.equal((fs.statSync(store.keysFile).mode & 0o777), 0o600);
    await store.removeKey('ops');
    assert.deepEqual(await store.listKeys(), []);
    await store.addKey(KEY);
    await store.removeKey(k.fingerprint);
    await assert.rejects(store.removeKey('ops'), (e: unknown) => isOioError(e) && e.code === 'CONTENT_NOT_FOUND');
  });

  it('keeps only scrypt hashes of passwords and verifies them', async () => {
    const store = new AdminStore(path.join(tmpDir('oio-admin-'), 'admin-ssh'));
    assert.equal(await store.verifyPassword('admin', 'anything'), false);
    await store.setPassword('admin', 'correct horse');
    const text = fs.readFileSync(store.passwordsFile, 'utf8');
    assert.match(text, /^admin scrypt\$16384\$8\$1\$/);
    assert.ok(!text.includes('correct horse'));
    assert.equal(await store.verifyPassword('admin', 'correct horse'), true);
    assert.equal(await store.verifyPassword('admin', 'correct horsE'), false);
    assert.equal(await store.verifyPassword('root', 'correct horse'), false);
    await assert.rejects(store.setPassword('admin', 'short'), /at least 8/);
    await store.removePassword('admin');
    assert.equal(await store.verifyPassword('admin', 'correct horse'), false);
  });
});
