/** Unit tests of the export rules: client address lists (addresses, CIDR), read-only, parsing. */
import assert from 'node:assert/strict';
import { clientAllowed, makeExport, parseExportRules } from '../../../../fs-bridge/nfs';
import { MemoryBridgeFs } from './memory-bridge-fs';

describe('fs-bridge/nfs exports', () => {
  const fs = new MemoryBridgeFs();

  it('allows every client when the list is empty', () => {
    assert.equal(clientAllowed(makeExport('c', fs), '192.0.2.7'), true);
  });

  it('matches exact addresses and CIDR ranges, IPv4 and IPv6', () => {
    const e = makeExport('c', fs, { clients: ['127.0.0.1', '10.1.0.0/16', 'fd00::/8'] });
    assert.equal(clientAllowed(e, '127.0.0.1'), true);
    assert.equal(clientAllowed(e, '127.0.0.2'), false);
    assert.equal(clientAllowed(e, '10.1.200.3'), true);
    assert.equal(clientAllowed(e, '10.2.0.1'), false);
    assert.equal(clientAllowed(e, 'fd12::1'), true);
    assert.equal(clientAllowed(e, 'fe80::1'), false);
    assert.equal(clientAllowed(e, 'not-an-ip'), false);
  });

  it('parses nfs.exports JSON (object or string) and refuses bad rules', () => {
    assert.deepEqual(parseExportRules('{"a":{"readOnly":true},"*":{"clients":["127.0.0.0/8"]}}'), { a: { readOnly: true, clients: undefined }, '*': { clients: ['127.0.0.0/8'], readOnly: undefined } });
    assert.deepEqual(parseExportRules({}), {});
    assert.throws(() => parseExportRules({ a: { clients: ['300.1.1.1'] } }), /bad client address/);
    assert.throws(() => parseExportRules({ a: { clients: ['10.0.0.0/40'] } }), /prefix length/);
    assert.throws(() => parseExportRules({ a: { readOnly: 'yes' } }), /readOnly/);
    assert.throws(() => parseExportRules([]), /expected an object/);
  });

  it('gives each export a stable id from its path', () => {
    assert.equal(makeExport('c', fs).id, makeExport('c', new MemoryBridgeFs()).id);
    assert.notEqual(makeExport('c', fs).id, makeExport('d', fs).id);
  });
});
