/**
 * @module common/chunk-file
 * The on-disk format of a chunk, shared by the rawx that writes and serves it and by the
 * client library's local reads: `<volume>/data/<first 3 hex of id>/<id>` holds the chunk's
 * bytes, then its metadata as JSON, then a fixed footer (4-byte big-endian JSON length +
 * 4-byte magic "OIO1"). A file without a valid footer is an unfinished or corrupt chunk.
 */
import type { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { ChunkMeta } from './chunk-meta';
import { InvalidArgumentError, OioError } from './errors';
import { isChunkId } from './naming';

/** Magic at the very end of every chunk file ("OIO1"). */
export const FOOTER_MAGIC = 0x4f494f31;
export const FOOTER_BYTES = 8;
/** Tail read in one syscall when opening a chunk (covers footer + usual metadata). */
const TAIL_GUESS = 4096;
const MAX_META_BYTES = 1024 * 1024;

/** Path of a chunk file in a volume; BAD_REQUEST unless `id` is a chunk id (path safety). */
export function chunkFilePath(volume: string, id: string): string {
  if (!isChunkId(id)) throw new InvalidArgumentError('BAD_REQUEST', `invalid chunk id "${id.slice(0, 80)}"`);
  return path.join(volume, 'data', id.slice(0, 3), id);
}

/** JSON metadata + footer appended after the data bytes. */
export function encodeTrailer(meta: ChunkMeta): Buffer {
  const json = Buffer.from(JSON.stringify({ v: 1, ...meta }), 'utf8');
  const buf = Buffer.allocUnsafe(json.length + FOOTER_BYTES);
  json.copy(buf, 0);
  buf.writeUInt32BE(json.length, json.length);
  buf.writeUInt32BE(FOOTER_MAGIC, json.length + 4);
  return buf;
}

/** The metadata of an open chunk file; INTERNAL (corrupt) when its footer or metadata is bad. */
export async function readChunkMeta(fh: fsp.FileHandle, id: string): Promise<ChunkMeta> {
  const { size: fileSize } = await fh.stat();
  const corrupt = (why: string): OioError => new OioError('INTERNAL', `chunk ${id} is corrupt: ${why}`);
  if (fileSize < FOOTER_BYTES) throw corrupt('no footer');
  const tailLen = Math.min(fileSize, TAIL_GUESS);
  let tail = Buffer.allocUnsafe(tailLen);
  await readExactly(fh, tail, fileSize - tailLen);
  if (tail.readUInt32BE(tailLen - 4) !== FOOTER_MAGIC) throw corrupt('bad magic');
  const jsonLen = tail.readUInt32BE(tailLen - 8);
  if (jsonLen > MAX_META_BYTES || jsonLen + FOOTER_BYTES > fileSize) throw corrupt('bad metadata length');
  if (jsonLen + FOOTER_BYTES > tailLen) {
    tail = Buffer.allocUnsafe(jsonLen + FOOTER_BYTES);
    await readExactly(fh, tail, fileSize - tail.length);
  }
  const jsonStart = tail.length - FOOTER_BYTES - jsonLen;
  let parsed: ChunkMeta & { v?: number };
  try {
    parsed = JSON.parse(tail.toString('utf8', jsonStart, jsonStart + jsonLen)) as ChunkMeta & { v?: number };
  } catch {
    throw corrupt('bad metadata JSON');
  }
  const { v: _version, ...meta } = parsed;
  const dataSize = fileSize - FOOTER_BYTES - jsonLen;
  if (meta.chunkSize !== dataSize) throw corrupt(`size ${dataSize} differs from metadata ${meta.chunkSize}`);
  return meta;
}

/** Reads exactly buf.length bytes at `position`; INTERNAL at the end of the file. */
export async function readExactly(fh: fsp.FileHandle, buf: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesRead } = await fh.read(buf, off, buf.length - off, position + off);
    if (bytesRead === 0) throw new OioError('INTERNAL', 'unexpected end of chunk file');
    off += bytesRead;
  }
}
