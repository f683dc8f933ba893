/**
 * @module runtime/mount-command
 * `oio mount CONTAINER MOUNTPOINT [--foreground]` and `oio umount MOUNTPOINT`: the FUSE
 * bridge composed here (runtime is the composition root; appliance/cli may not import
 * fs-bridge). CONTAINER `/` mounts the whole account (containers as top-level directories).
 * Background mode starts the same command with --foreground as a detached child, waits until
 * the kernel lists the mount, and returns. The mount process writes a pid file next to its
 * state; `oio umount` sends it SIGTERM (commit pending files, unmount, exit) and falls back
 * to `fusermount -u` when no process owns the mount.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ObjectStorage } from '../client/object-storage';
import { flagStr, parseArgs } from '../cli/args';
import { InvalidArgumentError, loadConfig, localVolumes, rootLogger, toOioError } from '../common';
import { createBridgeFs } from '../../fs-bridge/core';
import { mountFuse } from '../../fs-bridge/fuse';

export const MOUNT_USAGE = 'mount CONTAINER|/ MOUNTPOINT [--foreground] [--proxy ADDR] [--oio-account A] [--state-dir DIR] [--cache-ms 1000] [--allow-other] [--log FILE] [--config NODE_CONFIG]';
export const UMOUNT_USAGE = 'umount MOUNTPOINT';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pidFileOf(mountpoint: string): string {
  const id = createHash('sha1').update(path.resolve(mountpoint)).digest('hex').slice(0, 16);
  return path.join(os.tmpdir(), `oio-mount-${id}.pid`);
}

/** Whether the kernel lists `mountpoint` as a FUSE mount (read asynchronously). */
export async function isFuseMounted(mountpoint: string): Promise<boolean> {
  const text = await fs.promises.readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const want = path.resolve(mountpoint);
  return text.split('\n').some((l) => {
    const f = l.split(' ');
    const sep = f.indexOf('-');
    return f[4]?.replace(/\\040/g, ' ') === want && (f[sep + 1] ?? '').startsWith('fuse');
  });
}

/** Whether a process runs: an exited one its parent has not reaped yet (a zombie) does not. */
export function alive(pid: number): boolean {
  try { process.kill(pid, 0); } catch { return false; }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return true;
  }
}

/** `oio mount`. Resolves with the exit code (foreground: when unmounted). */
export async function mountCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { booleans: ['foreground', 'allow-other', 'help'] });
  const [container, mountpoint] = args.positionals;
  if (!container || !mountpoint || args.flags.help) throw new InvalidArgumentError('BAD_REQUEST', `usage: oio ${MOUNT_USAGE}`);
  const mnt = path.resolve(mountpoint);
  if (!args.flags.foreground) return background(argv, mnt, flagStr(args, 'log'));

  const proxy = flagStr(args, 'proxy') ?? process.env.OIO_PROXY ?? '127.0.0.1:6006';
  const account = flagStr(args, 'oio-account', 'account') ?? process.env.OIO_ACCOUNT ?? 'default';
  // On a node (--config: its configuration file, read as `oio node up --config` reads it, with
  // the environment), the chunks of its own rawx are read from their files, as its other front
  // ends do (node.local_reads).
  const configFile = flagStr(args, 'config');
  const local = configFile !== undefined ? localVolumes(loadConfig({ file: configFile, env: process.env })) : undefined;
  const storage = new ObjectStorage({ proxy, account, localVolumes: local });
  const whole = container === '/';
  if (!whole) await storage.containerShow(container);
  const stateDir = path.resolve(flagStr(args, 'state-dir') ?? path.join(os.homedir(), '.oio', 'fuse', account));
  const spoolDir = path.join(stateDir, `spool-${process.pid}`);
  // Spools of mount processes that died (their unflushed files are lost, stored objects intact).
  for (const e of await fs.promises.readdir(stateDir).catch(() => [] as string[])) {
    const m = /^spool-(\d+)$/.exec(e);
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) await fs.promises.rm(path.join(stateDir, e), { recursive: true, force: true });
  }
  const ttl = Number(flagStr(args, 'cache-ms') ?? 1000);
  const log = rootLogger.child({ svc: 'fuse', mnt });
  // Directories are written in the background, like files at release (tar, cp -a and rsync
  // make a directory, then set its owner, mode and times one call at a time).
  const bridge = createBridgeFs({ storage, container: whole ? undefined : container, stateDir, spoolDir, attrTtlMs: ttl, dirWriteDelayMs: 30, log });
  const mount = await mountFuse({
    bridge, mountpoint: mnt, cacheSeconds: Math.max(0, ttl / 1000), allowOther: args.flags['allow-other'] === true,
    fsname: `oio:${account}/${whole ? '' : container}`,
    onWarning: (msg) => log.warn(msg),
    onError: (op, p, e) => log.error('fuse op failed', { op, path: p, err: toOioError(e) }),
  });
  const pidFile = pidFileOf(mnt);
  await fs.promises.writeFile(pidFile, String(process.pid));
  log.info('mounted', { container, account, proxy });
  process.stderr.write(`oio: ${whole ? `account ${account}` : `container ${container}`} mounted on ${mnt}\n`);

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (why: string) => {
      if (stopping) return;
      stopping = true;
      log.info('unmounting', { why });
      resolve();
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    // Unmounted from outside (fusermount -u): stop too.
    const watch = setInterval(() => { void isFuseMounted(mnt).then((m) => { if (!m) stop('unmounted'); }); }, 1000);
    watch.unref();
  });
  let rc = 0;
  // Commit what is pending while the mount still exists, then unmount.
  await mount.unmount().catch((e: unknown) => { rc = 1; log.error('unmount failed', { err: toOioError(e) }); });
  await bridge.close().catch((e: unknown) => { rc = 1; log.error('commit of pending files failed', { err: toOioError(e) }); });
  await fs.promises.rm(spoolDir, { recursive: true, force: true });
  await fs.promises.unlink(pidFile).catch(() => undefined);
  log.info('unmounted');
  return rc;
}

async function background(argv: string[], mnt: string, logFile?: string): Promise<number> {
  const out = logFile ? fs.openSync(logFile, 'a') : 'ignore';
  const child = spawn(process.execPath, [process.argv[1]!, 'mount', ...argv, '--foreground'], { detached: true, stdio: ['ignore', out, out] });
  if (typeof out === 'number') fs.closeSync(out);
  let exited: number | null | undefined;
  child.on('exit', (code) => { exited = code; });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (exited !== undefined) { process.stderr.write(`oio: mount failed (exit ${exited})${logFile ? `, see ${logFile}` : ''}\n`); return 1; }
    if (await isFuseMounted(mnt)) { child.unref(); process.stderr.write(`oio: mounted on ${mnt} (pid ${child.pid})\n`); return 0; }
    await sleep(100);
  }
  child.kill('SIGTERM');
  process.stderr.write('oio: mount not ready after 30 s\n');
  return 1;
}

/** `oio umount`: asks the mount process to commit and unmount; fusermount -u otherwise. */
export async function umountCommand(argv: string[]): Promise<number> {
  const [mountpoint] = parseArgs(argv, {}).positionals;
  if (!mountpoint) throw new InvalidArgumentError('BAD_REQUEST', `usage: oio ${UMOUNT_USAGE}`);
  const mnt = path.resolve(mountpoint);
  const pidFile = pidFileOf(mnt);
  const pid = Number(await fs.promises.readFile(pidFile, 'utf8').catch(() => ''));
  if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 120_000;
    while (alive(pid) && Date.now() < deadline) await sleep(100);
    if (!alive(pid)) return 0;
    process.stderr.write(`oio: mount process ${pid} did not stop\n`);
    return 1;
  }
  if (!(await isFuseMounted(mnt))) { process.stderr.write(`oio: ${mnt} is not mounted\n`); return 1; }
  return new Promise((resolve) => execFile('fusermount', ['-u', mnt], (err, _o, stderr) => {
    if (err) process.stderr.write(`oio: fusermount -u failed: ${stderr || err.message}\n`);
    resolve(err ? 1 : 0);
  }));
}
