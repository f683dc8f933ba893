/**
 * @module fs-bridge/sftp/long-name
 * The long `ls -l` line of an entry (SFTP's longname, scp listings). Paths are the core's
 * (fs-bridge/core/bridge-paths); the home directory is '/', the account's list of containers.
 */
import type { Attr } from '../core';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `ls -l`-style line (what OpenSSH's sftp-server sends as longname). */
export function longName(a: Attr, name: string, nowMs = Date.now()): string {
  const bits = a.mode & 0o777;
  let perms = a.type === 'dir' ? 'd' : a.type === 'symlink' ? 'l' : '-';
  for (let i = 8; i >= 0; i--) perms += bits & (1 << i) ? 'rwxrwxrwx'[8 - i] : '-';
  const d = new Date(a.mtimeMs);
  const recent = Math.abs(nowMs - a.mtimeMs) < 182 * 86_400_000;
  const when = `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ${recent
    ? `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`
    : String(d.getUTCFullYear()).padStart(5)}`;
  return `${perms} ${String(a.nlink).padStart(4)} ${String(a.uid).padEnd(8)} ${String(a.gid).padEnd(8)} ${String(a.size).padStart(8)} ${when} ${name}`;
}
