/**
 * @module test/unit/fs-bridge/nfs/memory-bridge-fs
 * TEST DOUBLE of the BridgeFs contract (fs-bridge/core/types.ts), never shipped: a small
 * in-memory tree used to unit-test the NFS protocol layers without a grid. The real bridge
 * (fs-bridge/core createBridgeFs) is what the e2e tests and the service use.
 */
import { OioError } from '../../../../appliance/common';
import { ROOT_INO, type Attr, type BridgeFs, type FileType, type Ino, type ReaddirPage, type SetAttr, type StatFs } from '../../../../fs-bridge/core/types';

interface Node {
  attr: Attr;
  data: Buffer;
  target?: string;
  children?: Map<string, Ino>;
}

export class MemoryBridgeFs implements BridgeFs {
  private readonly nodes = new Map<Ino, Node>();
  private nextIno = 2;
  /** inodes flushed, in order (tests check COMMIT / FILE_SYNC) */
  readonly flushed: Ino[] = [];
  /** dirty inodes (written, not flushed) */
  readonly dirty = new Set<Ino>();

  constructor() {
    this.nodes.set(ROOT_INO, this.make(ROOT_INO, 'dir', 0o755));
  }

  private make(ino: Ino, type: FileType, mode: number): Node {
    const now = Date.now();
    return { attr: { ino, type, mode, uid: 0, gid: 0, size: 0, nlink: type === 'dir' ? 2 : 1, atimeMs: now, mtimeMs: now, ctimeMs: now }, data: Buffer.alloc(0), children: type === 'dir' ? new Map() : undefined };
  }

  private node(ino: Ino): Node {
    const n = this.nodes.get(ino);
    if (!n) throw new OioError('CONTENT_NOT_FOUND', 'no such inode');
    return n;
  }

  private dir(ino: Ino): Map<string, Ino> {
    const n = this.node(ino);
    if (!n.children) throw new OioError('BAD_REQUEST', 'not a directory', { details: { reason: 'not_dir' } });
    return n.children;
  }

  private add(parent: Ino, name: string, type: FileType, mode: number, owner?: { uid?: number; gid?: number }): Attr {
    if (name.includes('/') || name === '' || name === '.' || name === '..') throw new OioError('INVALID_NAME', 'bad name');
    const d = this.dir(parent);
    if (d.has(name)) throw new OioError('CONTENT_EXISTS', 'exists');
    const ino = this.nextIno++;
    const n = this.make(ino, type, mode);
    if (owner?.uid !== undefined) n.attr.uid = owner.uid;
    if (owner?.gid !== undefined) n.attr.gid = owner.gid;
    this.nodes.set(ino, n);
    d.set(name, ino);
    return { ...n.attr };
  }

  async lookup(parent: Ino, name: string): Promise<Attr> {
    const ino = this.dir(parent).get(name);
    if (ino === undefined) throw new OioError('CONTENT_NOT_FOUND', 'no such file');
    return { ...this.node(ino).attr };
  }

  async getattr(ino: Ino): Promise<Attr> {
    return { ...this.node(ino).attr };
  }

  async setattr(ino: Ino, c: SetAttr): Promise<Attr> {
    const n = this.node(ino);
    if (c.size !== undefined) {
      const b = Buffer.alloc(c.size);
      n.data.copy(b, 0, 0, Math.min(c.size, n.data.length));
      n.data = b;
      n.attr.size = c.size;
    }
    if (c.mode !== undefined) n.attr.mode = c.mode;
    if (c.uid !== undefined) n.attr.uid = c.uid;
    if (c.gid !== undefined) n.attr.gid = c.gid;
    if (c.atimeMs !== undefined) n.attr.atimeMs = c.atimeMs;
    if (c.mtimeMs !== undefined) n.attr.mtimeMs = c.mtimeMs;
    n.attr.ctimeMs = Date.now();
    return { ...n.attr };
  }

  /** cookie: index in name order */
  async readdir(ino: Ino, cookie: number, limit: number, plus?: boolean): Promise<ReaddirPage> {
    const names = [...this.dir(ino).keys()].sort();
    const slice = names.slice(cookie, cookie + limit);
    const entries = slice.map((name) => {
      const a = this.node(this.dir(ino).get(name)!).attr;
      return { name, ino: a.ino, type: a.type, attr: plus ? { ...a } : undefined };
    });
    const end = cookie + slice.length;
    return end >= names.length ? { entries, eof: true } : { entries, nextCookie: end, eof: false };
  }

  async mkdir(parent: Ino, name: string, mode: number, owner?: { uid: number; gid: number }): Promise<Attr> {
    return this.add(parent, name, 'dir', mode, owner);
  }

  async rmdir(parent: Ino, name: string): Promise<void> {
    const a = await this.lookup(parent, name);
    if (this.dir(a.ino).size) throw new OioError('CONTAINER_NOT_EMPTY', 'not empty');
    this.dir(parent).delete(name);
    this.nodes.delete(a.ino);
  }

  async create(parent: Ino, name: string, mode: number, o: { exclusive?: boolean; uid?: number; gid?: number } = {}): Promise<Attr> {
    const existing = this.dir(parent).get(name);
    if (existing !== undefined && !o.exclusive) return { ...this.node(existing).attr };
    return this.add(parent, name, 'file', mode, o);
  }

  async unlink(parent: Ino, name: string): Promise<void> {
    const a = await this.lookup(parent, name);
    if (a.type === 'dir') throw new OioError('NOT_ALLOWED', 'is a directory');
    this.dir(parent).delete(name);
    this.nodes.delete(a.ino);
  }

  async rename(parent: Ino, name: string, newParent: Ino, newName: string): Promise<void> {
    const a = await this.lookup(parent, name);
    const dst = this.dir(newParent);
    const over = dst.get(newName);
    if (over !== undefined) this.nodes.delete(over);
    this.dir(parent).delete(name);
    dst.set(newName, a.ino);
  }

  async symlink(parent: Ino, name: string, target: string): Promise<Attr> {
    const a = this.add(parent, name, 'symlink', 0o777);
    const n = this.node(a.ino);
    n.target = target;
    n.attr.size = Buffer.byteLength(target);
    return { ...n.attr };
  }

  async readlink(ino: Ino): Promise<string> {
    const n = this.node(ino);
    if (n.target === undefined) throw new OioError('BAD_REQUEST', 'not a symlink');
    return n.target;
  }

  /** Nothing here is stored in a grid: every read goes through `read`. */
  async readStream(): Promise<undefined> {
    return undefined;
  }

  async read(ino: Ino, offset: number, length: number): Promise<Buffer> {
    const n = this.node(ino);
    if (n.children) throw new OioError('BAD_REQUEST', 'is a directory');
    return Buffer.from(n.data.subarray(offset, offset + length));
  }

  async write(ino: Ino, offset: number, data: Buffer): Promise<number> {
    const n = this.node(ino);
    if (offset + data.length > n.data.length) {
      const b = Buffer.alloc(offset + data.length);
      n.data.copy(b);
      n.data = b;
    }
    data.copy(n.data, offset);
    n.attr.size = n.data.length;
    n.attr.mtimeMs = Date.now();
    this.dirty.add(ino);
    return data.length;
  }

  /** the next `failFlushes` flushes throw UNAVAILABLE (a grid without rawx for a moment) */
  failFlushes = 0;

  async flush(ino: Ino): Promise<void> {
    this.node(ino);
    if (this.failFlushes > 0) {
      this.failFlushes--;
      throw new OioError('UNAVAILABLE', 'no rawx for a moment');
    }
    this.dirty.delete(ino);
    this.flushed.push(ino);
  }

  async open(): Promise<void> {}
  async release(): Promise<void> {}

  async statfs(): Promise<StatFs> {
    return { totalBytes: 1 << 30, freeBytes: 1 << 29, availBytes: 1 << 29, files: this.nodes.size, freeFiles: 1_000_000, blockSize: 1 << 20, nameMax: 255 };
  }
}
