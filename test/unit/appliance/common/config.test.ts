import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, localVolumes, parseDuration, parseSize, cidOf, prefixOf, validateName, ObjectUrl } from '../../../../appliance/common';
import { tmpDir } from '../../../helpers/tmp';

describe('common/config loader', () => {
  it('gives schema defaults when nothing is set', () => {
    const c = loadConfig({ env: {} });
    assert.equal(c.namespace, 'OPENIO');
    assert.equal(c['rawx.count'], 3);
    assert.equal(c['ns.chunk_size'], 100 * 1024 * 1024);
    assert.equal(c['ns.score_timeout'], 10_000);
  });

  it('layers file < environment < flags', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'oio.json');
    fs.writeFileSync(file, JSON.stringify({ rawx: { count: 4 }, namespace: 'FILE', 'ns.chunk_size': '1MiB' }));
    const c = loadConfig({ file, env: { OIO_RAWX_COUNT: '5', OIO_NAMESPACE: 'ENV' }, overrides: { namespace: 'FLAG' } });
    assert.equal(c['rawx.count'], 5);
    assert.equal(c.namespace, 'FLAG');
    assert.equal(c['ns.chunk_size'], 1024 * 1024);
  });

  it('names the rawx of the node read from their files (node.local_reads), none when off', () => {
    const c = loadConfig({ env: { OIO_IP: '127.0.0.7', OIO_RAWX_COUNT: '2', OIO_DATA_DIR: '/d' } });
    assert.deepEqual([...localVolumes(c)], [['127.0.0.7:6200', '/d/volumes/rawx-0'], ['127.0.0.7:6201', '/d/volumes/rawx-1']]);
    const listed = loadConfig({ env: { OIO_IP: '10.0.0.1', OIO_RAWX_VOLUMES: '/srv/oio/a,/srv/oio/b', OIO_RAWX_PORT: '7000' } });
    assert.deepEqual([...localVolumes(listed)], [['10.0.0.1:7000', '/srv/oio/a'], ['10.0.0.1:7001', '/srv/oio/b']]);
    assert.equal(localVolumes(loadConfig({ env: { OIO_NODE_LOCAL_READS: 'false' } })).size, 0);
  });

  it('refuses a value out of bounds naming the key and the range', () => {
    assert.throws(() => loadConfig({ env: { OIO_RAWX_COUNT: '999' } }), /rawx\.count: 999 is above the maximum 256/);
    assert.throws(() => loadConfig({ env: { OIO_AGENT_INTERVAL: 'soon' } }), /agent\.interval: .*cannot parse duration/);
  });

  it('refuses unknown keys in the config file', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'oio.json');
    fs.writeFileSync(file, JSON.stringify({ rawx_cont: 3 }));
    assert.throws(() => loadConfig({ file, env: {} }), /unknown key "rawx_cont"/);
  });

  it('returns a frozen object', () => {
    const c = loadConfig({ env: {} });
    assert.ok(Object.isFrozen(c));
  });
});

describe('common/units', () => {
  it('parses sizes with binary and decimal units', () => {
    assert.equal(parseSize('64MiB'), 64 * 1024 * 1024);
    assert.equal(parseSize('1GB'), 1e9);
    assert.equal(parseSize('4096'), 4096);
    assert.throws(() => parseSize('12 apples'));
  });
  it('parses durations to milliseconds', () => {
    assert.equal(parseDuration('5s'), 5000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration(42), 42);
  });
});

describe('common/naming', () => {
  it('computes the CID as uppercase SHA-256 of account NUL container', () => {
    // sha256("acct\0cont") computed independently with `printf 'acct\0cont' | sha256sum`
    assert.equal(cidOf('acct', 'cont'), '05CF049BD72E5EB3E32AC1B00EE3D5ED4094AADB5AF3A15138E1BF11FA854A95');
    assert.notEqual(cidOf('a', 'bc'), cidOf('ab', 'c'));
    assert.equal(prefixOf(cidOf('acct', 'cont')), cidOf('acct', 'cont').slice(0, 4));
  });
  it('rejects empty, too long and NUL names', () => {
    assert.throws(() => validateName('object', ''), { code: 'INVALID_NAME' });
    assert.throws(() => validateName('object', 'a'.repeat(1025)), { code: 'INVALID_NAME' });
    assert.throws(() => validateName('object', 'é'.repeat(513)), { code: 'INVALID_NAME' });
    assert.throws(() => validateName('object', 'a\0'), { code: 'INVALID_NAME' });
    assert.equal(validateName('object', 'a'.repeat(1024)), 'a'.repeat(1024));
  });
  it('ObjectUrl validates its parts and derives the CID', () => {
    const u = new ObjectUrl('NS', 'acct', 'cont', 'a/b');
    assert.equal(u.cid, cidOf('acct', 'cont'));
    assert.throws(() => new ObjectUrl('NS', 'acct', ''), { code: 'INVALID_NAME' });
  });
});
