/**
 * @module services/meta1/backend
 * meta1 logic, no HTTP: references (CID) -> linked services, one base per prefix
 * (`<dataDir>/<PREFIX>.meta1`), opened lazily and kept in a small LRU of open handles.
 * The choice of a new service is injected (`chooser`), the service wires the conscience.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, NotFoundError, OioError } from '../../common/errors';
import { cidOf, isCid, prefixOf, validateName } from '../../common/naming';
import { Base, writeBaseFile } from '../../sqliterepo';
import { MIGRATIONS } from './schema';

/** One linked service of a reference. */
export interface LinkedService { type: string; addr: string; seq: number }

/** A reference as answered by link and show. */
export interface Reference { cid: string; account: string; container: string; services: LinkedService[] }

/** Picks the address of one service of `type` (POLICY_NOT_SATISFIABLE when none). */
export type ServiceChooser = (type: string) => Promise<string>;

export interface Meta1BackendOptions {
  chooser: ServiceChooser;
  /** open bases kept in the LRU; default 64 */
  maxOpenBases?: number;
}

/** Checks a CID (64 uppercase hex digits); BAD_REQUEST otherwise. */
export function checkCid(cid: unknown): string {
  if (typeof cid !== 'string' || !isCid(cid)) throw new InvalidArgumentError('BAD_REQUEST', 'cid must be 64 uppercase hex digits');
  return cid;
}

/** Checks a service type id (lowercase word, e.g. meta2, rdir); BAD_REQUEST otherwise. */
export function checkType(type: unknown): string {
  if (typeof type !== 'string' || !/^[a-z][a-z0-9-]{0,31}$/.test(type)) throw new InvalidArgumentError('BAD_REQUEST', `bad service type "${String(type)}"`);
  return type;
}

export class Meta1Backend {
  /** Map iteration order = insertion order: the first key is the least recently used. */
  private readonly open = new Map<string, Base>();
  private readonly maxOpen: number;

  constructor(readonly dataDir: string, private readonly opts: Meta1BackendOptions) {
    this.maxOpen = opts.maxOpenBases ?? 64;
    fs.mkdirSync(dataDir, { recursive: true });
  }

  /** Path of the base of a prefix. */
  fileOf(prefix: string): string {
    return path.join(this.dataDir, `${prefix}.meta1`);
  }

  /** Number of bases currently open (for tests and metrics). */
  get openBases(): number {
    return this.open.size;
  }

  /** The base of the CID's prefix; undefined when it does not exist and `create` is false. */
  private baseOf(cid: string, create: boolean): Base | undefined {
    return this.replicaBase(prefixOf(cid), create);
  }

  /** The base of a prefix (replication opens replicas by prefix); undefined when absent and not `create`. */
  replicaBase(prefix: string, create: boolean): Base | undefined {
    if (!/^[0-9A-F]{4}$/.test(prefix)) throw new InvalidArgumentError('BAD_REQUEST', `bad prefix "${prefix}"`);
    let base = this.open.get(prefix);
    if (base) {
      this.open.delete(prefix);
      this.open.set(prefix, base);
      return base;
    }
    const file = this.fileOf(prefix);
    if (!create && !fs.existsSync(file)) return undefined;
    base = Base.open(file, MIGRATIONS).identify('meta1', prefix);
    this.open.set(prefix, base);
    while (this.open.size > this.maxOpen) {
      const [oldest, b] = this.open.entries().next().value as [string, Base];
      this.open.delete(oldest);
      b.close();
    }
    return base;
  }

  private read(base: Base, cid: string): Reference | undefined {
    const ref = base.get<{ account: string; container: string }>(`SELECT account, container FROM refs WHERE cid = ?`, [cid]);
    if (!ref) return undefined;
    const services = base.all<LinkedService>(`SELECT type, addr, seq FROM services WHERE cid = ? ORDER BY type, seq`, [cid]);
    return { cid, account: ref.account, container: ref.container, services };
  }

  /**
   * Creates the reference if absent and, if no service of `type` is linked, links one chosen
   * by the chooser with seq 1. Idempotent: a second call returns the same services.
   * Throws BAD_REQUEST (bad cid/type, or cid not matching account/container), INVALID_NAME,
   * and whatever the chooser throws (POLICY_NOT_SATISFIABLE, UNAVAILABLE); then nothing is written.
   */
  async link(req: { cid: unknown; account: unknown; container: unknown; type: unknown }, now: number): Promise<Reference> {
    const cid = checkCid(req.cid);
    const account = validateName('account', req.account);
    const container = validateName('container', req.container);
    const type = checkType(req.type);
    if (cidOf(account, container) !== cid) throw new InvalidArgumentError('BAD_REQUEST', 'cid does not match account and container');
    const existing = this.baseOf(cid, false);
    const current = existing ? this.read(existing, cid) : undefined;
    if (current && current.services.some((s) => s.type === type)) return current;
    const addr = await this.opts.chooser(type);
    // Re-fetch the base: the LRU may have closed it while we waited for the conscience.
    const base = this.baseOf(cid, true)!;
    base.write((tx) => {
      tx.run(`INSERT OR IGNORE INTO refs (cid, account, container, ctime) VALUES (?, ?, ?, ?)`, [cid, account, container, now]);
      // A concurrent link may have won while we waited: keep its choice.
      if (!tx.get(`SELECT 1 AS x FROM services WHERE cid = ? AND type = ?`, [cid, type])) {
        tx.run(`INSERT INTO services (cid, type, seq, addr) VALUES (?, ?, 1, ?)`, [cid, type, addr]);
      }
    }, now);
    return this.read(base, cid)!;
  }

  /** The reference and its services; CONTAINER_NOT_FOUND when absent. */
  show(cidIn: unknown): Reference {
    const cid = checkCid(cidIn);
    const base = this.baseOf(cid, false);
    const ref = base ? this.read(base, cid) : undefined;
    if (!ref) throw new NotFoundError('CONTAINER_NOT_FOUND', `reference ${cid} not found`);
    return ref;
  }

  /** Removes the services of `type` linked to the reference (none linked: no-op); CONTAINER_NOT_FOUND when absent. */
  unlink(cidIn: unknown, typeIn: unknown, now: number): void {
    const cid = checkCid(cidIn);
    const type = checkType(typeIn);
    this.show(cid);
    this.baseOf(cid, true)!.write((tx) => { tx.run(`DELETE FROM services WHERE cid = ? AND type = ?`, [cid, type]); }, now);
  }

  /** Deletes the reference and its links; CONTAINER_NOT_FOUND when absent. */
  destroy(cidIn: unknown, now: number): void {
    const cid = checkCid(cidIn);
    this.show(cid);
    this.baseOf(cid, true)!.write((tx) => {
      tx.run(`DELETE FROM services WHERE cid = ?`, [cid]);
      tx.run(`DELETE FROM refs WHERE cid = ?`, [cid]);
    }, now);
  }

  /** Replaces a prefix base by a copy from its master (whole-base resync). */
  restoreReplica(prefix: string, data: Buffer): void {
    const b = this.open.get(prefix);
    if (b) { b.close(); this.open.delete(prefix); }
    writeBaseFile(this.fileOf(prefix), data);
  }

  /** Closes every open base. */
  close(): void {
    for (const b of this.open.values()) b.close();
    this.open.clear();
  }
}

/** Turns a conscience answer into one address, POLICY_NOT_SATISFIABLE when empty. */
export function firstAddr(type: string, services: Array<{ addr: string }>): string {
  const s = services[0];
  if (!s) throw new OioError('POLICY_NOT_SATISFIABLE', `no ${type} service available`);
  return s.addr;
}
