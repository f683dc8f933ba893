/** Unit tests of RPC record marking (RFC 5531 §11): fragments, TCP segmentation, limits. */
import assert from 'node:assert/strict';
import { frameRecord, RecordDecoder, RecordTooLargeError } from '../../../../fs-bridge/nfs/rpc';
import { frame } from '../../../helpers/nfs-rpc-client';

describe('fs-bridge/nfs rpc record marking', () => {
  const body = Buffer.from(Array.from({ length: 1000 }, (_, i) => i & 0xff));

  it('frames a record as one last fragment', () => {
    const b = Buffer.concat(frameRecord([body.subarray(0, 10), body.subarray(10)]));
    assert.equal(b.readUInt32BE(0), (0x80000000 | 1000) >>> 0);
    assert.ok(b.subarray(4).equals(body));
  });

  it('reassembles a record made of several fragments', () => {
    const d = new RecordDecoder(1 << 20);
    const out = d.push(frame(body, 7));
    assert.equal(out.length, 1);
    assert.ok(out[0]!.equals(body));
  });

  it('reassembles records fed one byte at a time, headers split included', () => {
    const d = new RecordDecoder(1 << 20);
    const wire = Buffer.concat([frame(body, 3), frame(Buffer.from('second!!'), 1)]);
    const out: Buffer[] = [];
    for (const byte of wire) out.push(...d.push(Buffer.from([byte])));
    assert.equal(out.length, 2);
    assert.ok(out[0]!.equals(body));
    assert.equal(out[1]!.toString(), 'second!!');
  });

  it('returns several records arriving in one segment', () => {
    const d = new RecordDecoder(1 << 20);
    const out = d.push(Buffer.concat([frame(Buffer.from('aaaa'), 1), frame(Buffer.from('bbbbbbbb'), 2), frame(Buffer.from('cc'), 1).subarray(0, 3)]));
    assert.deepEqual(out.map(String), ['aaaa', 'bbbbbbbb']);
  });

  it('refuses a record larger than the limit before buffering it', () => {
    const d = new RecordDecoder(100);
    const h = Buffer.alloc(4);
    h.writeUInt32BE((0x80000000 | 0x7fffffff) >>> 0);
    assert.throws(() => d.push(h), RecordTooLargeError);
  });

  it('counts the fragments of one record against the limit', () => {
    const d = new RecordDecoder(100);
    assert.throws(() => d.push(frame(Buffer.alloc(150), 3)), RecordTooLargeError);
  });
});
