/** Unit tests of the console's host key: made once, read back, never a key ssh2 cannot read. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateHostKeyPair, loadOrCreateHostKey } from '../../../../../appliance/gateways/admin-ssh/host-key';

/** What ssh2's generator wrote once in about 300 keys: the public key's leading zero byte dropped (31 bytes). */
const STRIPPED = {
  private: `-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMgAAAAtz
c2gtZWQyNTUxOQAAAB/palpo9/L6Y5QPauDuACT54CWpPABnfIPvq3H18339AAAA
kGo9jGRqPYxkAAAAC3NzaC1lZDI1NTE5AAAAH+lqWmj38vpjlA9q4O4AJPngJak8
AGd8g++rcfXzff0AAAA/OrCH6OKr220dpf610UTLn1lI+kN1UIWmus9jhsQ1juXp
alpo9/L6Y5QPauDuACT54CWpPABnfIPvq3H18339AAAADW9pby1hZG1pbi1zc2gB
Ag==
-----END OPENSSH PRIVATE KEY-----
`,
  public: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAH+lqWmj38vpjlA9q4O4AJPngJak8AGd8g++rcfXzff0 oio-admin-ssh',
};

describe('admin-ssh host key', () => {
  it('throws away a pair ssh2 cannot read back and makes another', () => {
    let calls = 0;
    const good = generateHostKeyPair();
    const pair = generateHostKeyPair(() => (++calls === 1 ? STRIPPED : good));
    assert.equal(calls, 2);
    assert.equal(pair, good);
  });

  it('fails with a clear error when no attempt gives a readable key', () => {
    assert.throws(() => generateHostKeyPair(() => STRIPPED, 3), /could not make an ed25519 host key ssh2 reads back \(3 attempts\)/);
  });

  it('makes only keys that read back (2,000 in a row; ssh2 alone fails about 1 in 300)', () => {
    for (let i = 0; i < 2000; i++) {
      const pair = generateHostKeyPair();
      assert.match(pair.public, /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-P]/); // a 32-byte key
    }
  });

  it('stores the key on first start (mode 0600) and reads the same one afterwards', async () => {
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'oio-host-key-'));
    try {
      const first = await loadOrCreateHostKey(dir);
      assert.equal(first.created, true);
      assert.equal((await fs.promises.stat(path.join(dir, 'host_key'))).mode & 0o777, 0o600);
      const again = await loadOrCreateHostKey(dir);
      assert.equal(again.created, false);
      assert.equal(again.fingerprint, first.fingerprint);
      await fs.promises.writeFile(path.join(dir, 'host_key'), STRIPPED.private);
      await assert.rejects(loadOrCreateHostKey(dir), /is not a private key ssh2 can read: remove it to make a new one/);
    } finally {
      await fs.promises.rm(dir, { recursive: true, force: true });
    }
  });
});
