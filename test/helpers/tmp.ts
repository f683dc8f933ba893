/**
 * @module test/helpers/tmp
 * Temporary folders for tests, removed at the end of the run unless OIO_KEEP_TMP is set.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const made: string[] = [];

export function tmpDir(prefix = 'oio-test-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

export function cleanupTmp(): void {
  if (process.env.OIO_KEEP_TMP) return;
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

process.on('exit', cleanupTmp);
