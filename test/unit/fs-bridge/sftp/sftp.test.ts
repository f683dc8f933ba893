/**
 * Unit: the SFTP front end's pure parts (error table, paths, long names, attributes, scp
 * arguments) and the session's reply order, driven through a recording stand-in of ssh2's
 * server SFTP stream on the in-memory BridgeFs double of the NFS unit tests (the real
 * bridge and OpenSSH's clients are in test/e2e/ssh/files.test.ts).
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { ERROR_CODES, OioError, type ErrorCode } from '../../../../appliance/common';
import { ROOT_INO, normalizePath, type Attr, type BridgeFs } from '../../../../fs-bridge/core';
import {
  OPEN_FLAG, SFTP_STATUS_OF_CODE, SftpStatus, longName, parseScpArgs, serveSftp, setAttrOf, sftpStatusOf, wireAttrsOf,
} from '../../../../fs-bridge/sftp';
import { MemoryBridgeFs } from '../nfs/memory-bridge-fs';

/** Records replies like ssh2's server SFTP stream would send them. */
class RecordingWire extends EventEmitter {
  readonly replies: Array<{ id: number; type: string; value: unknown }> = [];
  ended = false;
  status(id: number, code: SftpStatus, message?: string) { this.replies.push({ id, type: 'status', value: { code, message } }); }
  handle(id: number, h: Buffer) { this.replies.push({ id, type: 'handle', value: h }); }
  data(id: number, d: Buffer) { this.replies.push({ id, type: 'data', value: d }); }
  name(id: number, names: unknown[]) { this.replies.push({ id, type: 'name', value: names }); }
  attrs(id: number, a: unknown) { this.replies.push({ id, type: 'attrs', value: a }); }
  end() { this.ended = true; }
  async reply(id: number): Promise<{ type: string; value: unknown }> {
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline) {
      const r = this.replies.find((x) => x.id === id);
      if (r) return r;
      await new Promise((res) => setTimeout(res, 2));
    }
    throw new Error(`no reply to request ${id}`);
  }
}

describe('fs-bridge/sftp', () => {
  describe('error table', () => {
    it('maps every error code, missing things to NO_SUCH_FILE and refusals to PERMISSION_DENIED', () => {
      for (const c of Object.keys(ERROR_CODES) as ErrorCode[]) assert.notEqual(SFTP_STATUS_OF_CODE[c], undefined, c);
      assert.equal(sftpStatusOf(new OioError('CONTENT_NOT_FOUND', 'x')).code, SftpStatus.NO_SUCH_FILE);
      assert.equal(sftpStatusOf(new OioError('CONTAINER_NOT_FOUND', 'x')).code, SftpStatus.NO_SUCH_FILE);
      assert.equal(sftpStatusOf(new OioError('NOT_ALLOWED', 'x')).code, SftpStatus.PERMISSION_DENIED);
      assert.equal(sftpStatusOf(new OioError('NOT_IMPLEMENTED', 'x')).code, SftpStatus.OP_UNSUPPORTED);
    });

    it('gives FAILURE with a message, and never leaks internal text', () => {
      assert.deepEqual(sftpStatusOf(new OioError('CONTAINER_NOT_EMPTY', 'not empty')), { code: SftpStatus.FAILURE, message: 'CONTAINER_NOT_EMPTY: not empty' });
      const internal = sftpStatusOf(new Error('secret /var/lib path'));
      assert.equal(internal.code, SftpStatus.FAILURE);
      assert.doesNotMatch(internal.message, /secret/);
      assert.equal(sftpStatusOf(new OioError('BAD_REQUEST', 'x', { details: { reason: 'is_dir' } })).message, 'Is a directory');
    });
  });

  describe('paths and attributes', () => {
    it('normalizes client paths under the root', () => {
      assert.equal(normalizePath('.'), '/');
      assert.equal(normalizePath(''), '/');
      assert.equal(normalizePath('c1/a/../b/'), '/c1/b');
      assert.equal(normalizePath('/../../etc/passwd'), '/etc/passwd');
      assert.equal(normalizePath('//c1///x'), '/c1/x');
    });

    it('writes an ls -l line and wire attributes with type bits and seconds', () => {
      const a: Attr = { ino: 5, type: 'file', mode: 0o640, uid: 0, gid: 0, size: 1234, nlink: 1, atimeMs: 1_700_000_000_500, mtimeMs: 1_700_000_000_500, ctimeMs: 0 };
      assert.match(longName(a, 'f.bin', 1_700_000_100_000), /^-rw-r----- +1 0 +0 +1234 Nov 14 22:13 f\.bin$/);
      assert.deepEqual(wireAttrsOf(a), { mode: 0o100640, size: 1234, uid: 0, gid: 0, atime: 1_700_000_000, mtime: 1_700_000_000 });
      assert.deepEqual(setAttrOf({ mode: 0o100600, mtime: 10, atime: 20 }), { mode: 0o600, atimeMs: 20_000, mtimeMs: 10_000 });
    });

    it('parses scp -t/-f arguments and refuses anything else', () => {
      assert.deepEqual(parseScpArgs(['-t', '--', '/c1/x']), { sink: true, recursive: false, preserve: false, targetIsDir: false, paths: ['/c1/x'] });
      assert.deepEqual(parseScpArgs(['-v', '-r', '-p', '-f', 'a', 'b']), { sink: false, recursive: true, preserve: true, targetIsDir: false, paths: ['a', 'b'] });
      assert.throws(() => parseScpArgs(['-t', 'a', 'b']), /one target/);
      assert.throws(() => parseScpArgs(['-x', '-t', 'a']), /-x is not supported/);
      assert.throws(() => parseScpArgs(['a']), /exactly one of -t/);
    });
  });

  describe('session', () => {
    it('answers in request order even when a later request finishes first', async () => {
      const mem = new MemoryBridgeFs();
      const ctr = await mem.mkdir(ROOT_INO, 'c1', 0o755);
      // The first write is slow: its acknowledgement must still go out first.
      let slowFirst = true;
      const bridge: BridgeFs = Object.create(mem) as BridgeFs;
      bridge.write = async (ino, off, data) => {
        if (slowFirst) { slowFirst = false; await new Promise((r) => setTimeout(r, 20)); }
        return mem.write(ino, off, data);
      };
      const wire = new RecordingWire();
      const done = serveSftp(wire, { bridge });
      wire.emit('OPEN', 1, '/c1/f', OPEN_FLAG.WRITE | OPEN_FLAG.CREAT | OPEN_FLAG.TRUNC, { mode: 0o644 });
      const h = (await wire.reply(1)).value as Buffer;
      wire.emit('WRITE', 2, h, 0, Buffer.from('aaaa'));
      wire.emit('WRITE', 3, h, 4, Buffer.from('bbbb'));
      await wire.reply(3);
      assert.deepEqual(wire.replies.map((r) => r.id), [1, 2, 3]);
      wire.emit('CLOSE', 4, h);
      assert.deepEqual((await wire.reply(4)).value, { code: SftpStatus.OK, message: undefined });
      const f = await mem.lookup(ctr.ino, 'f');
      assert.equal((await mem.read(f.ino, 0, 100)).toString(), 'aaaabbbb');
      wire.emit('end');
      const c = await done;
      assert.equal(c.bytesWritten, 8);
      assert.equal(wire.ended, true);
    });

    it('reads to EOF, lists folders, and answers a missing path with NO_SUCH_FILE', async () => {
      const mem = new MemoryBridgeFs();
      const ctr = await mem.mkdir(ROOT_INO, 'c1', 0o755);
      const f = await mem.create(ctr.ino, 'hello.txt', 0o644);
      await mem.write(f.ino, 0, Buffer.from('hello'));
      const wire = new RecordingWire();
      void serveSftp(wire, { bridge: mem });
      wire.emit('OPEN', 1, 'c1/hello.txt', OPEN_FLAG.READ, {});
      const h = (await wire.reply(1)).value as Buffer;
      wire.emit('READ', 2, h, 0, 32768);
      assert.equal(((await wire.reply(2)).value as Buffer).toString(), 'hello');
      wire.emit('READ', 3, h, 5, 32768);
      assert.equal(((await wire.reply(3)).value as { code: number }).code, SftpStatus.EOF);
      wire.emit('OPENDIR', 4, '/');
      const d = (await wire.reply(4)).value as Buffer;
      wire.emit('READDIR', 5, d);
      const names = (await wire.reply(5)).value as Array<{ filename: string; longname: string }>;
      assert.deepEqual(names.map((n) => n.filename), ['c1']);
      assert.match(names[0]!.longname, /^drwxr-xr-x .* c1$/);
      wire.emit('READDIR', 6, d);
      assert.equal(((await wire.reply(6)).value as { code: number }).code, SftpStatus.EOF);
      wire.emit('STAT', 7, '/c1/nope');
      assert.equal(((await wire.reply(7)).value as { code: number }).code, SftpStatus.NO_SUCH_FILE);
      wire.emit('READ', 8, Buffer.from([9, 9, 9, 9]), 0, 10);
      assert.deepEqual((await wire.reply(8)).value, { code: SftpStatus.FAILURE, message: 'invalid handle' });
    });
  });
});
