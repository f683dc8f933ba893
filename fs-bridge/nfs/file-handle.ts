/**
 * @module fs-bridge/nfs/file-handle
 * NFSv3 file handles (opaque, at most 64 bytes): magic, format version, export id, inode and
 * generation. The export id is derived from the export's name (not from a start-up order) and
 * the inode is the bridge's permanent number, so a handle stays valid across a restart of the
 * server and across renames. The generation is reserved for inode reuse: the bridge never
 * reuses numbers, so it is constant today and checked so a future change cannot go unnoticed.
 */
import crypto from 'node:crypto';
import type { Ino } from '../core/types';

const MAGIC = 0x4f494f4e; // "OION"
const FORMAT = 1;
export const HANDLE_BYTES = 28;
export const GENERATION = 1;

export interface FileHandle {
  /** 16 hex digits, from `exportIdOf` */
  exportId: string;
  ino: Ino;
  generation: number;
}

/** Stable id of an export from its path (`/<container>`): the first 8 bytes of its SHA-256. */
export function exportIdOf(exportPath: string): string {
  return crypto.createHash('sha256').update(exportPath).digest().subarray(0, 8).toString('hex');
}

export function encodeHandle(h: FileHandle): Buffer {
  const b = Buffer.alloc(HANDLE_BYTES);
  b.writeUInt32BE(MAGIC, 0);
  b.writeUInt32BE(FORMAT, 4);
  Buffer.from(h.exportId, 'hex').copy(b, 8);
  b.writeBigUInt64BE(BigInt(h.ino), 16);
  b.writeUInt32BE(h.generation >>> 0, 24);
  return b;
}

/** undefined when `b` is not one of our handles (the caller answers NFS3ERR_BADHANDLE) */
export function decodeHandle(b: Buffer): FileHandle | undefined {
  if (b.length !== HANDLE_BYTES || b.readUInt32BE(0) !== MAGIC || b.readUInt32BE(4) !== FORMAT) return undefined;
  const ino = b.readBigUInt64BE(16);
  if (ino === 0n || ino > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return { exportId: b.subarray(8, 16).toString('hex'), ino: Number(ino), generation: b.readUInt32BE(24) };
}
