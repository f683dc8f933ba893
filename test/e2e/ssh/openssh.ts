/**
 * @module test/e2e/ssh/openssh
 * Running OpenSSH's own clients (`ssh`, `sftp`, `scp`) in the console's tests: tool check,
 * a child process with captured output, the common options (no user config, no agent, our
 * known_hosts and key), and polling with a deadline.
 */
import { execFileSync, spawn } from 'node:child_process';

export interface Run { code: number | null; stdout: string; stderr: string }

export function hasTool(cmd: string): boolean {
  try { execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }); return true; } catch { return false; }
}

export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...(opts.env ?? {}) }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const t = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    p.on('close', (code) => { clearTimeout(t); resolve({ code, stdout, stderr }); });
    p.stdin.end(opts.input ?? '');
  });
}

/** Polls `fn` until it returns true or the deadline passes. */
export async function until(fn: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Options common to ssh, sftp and scp: no user config, no agent, `knownHosts`, one key.
 * `portFlag`: ssh takes -p, sftp and scp -P.
 */
export function opensshOptions(knownHosts: string, identity: string | undefined, portFlag: '-p' | '-P' = '-p', extra: string[] = []): string[] {
  return [
    '-F', '/dev/null', portFlag, '2222', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=accept-new',
    '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', '-o', 'ConnectTimeout=15', '-o', 'LogLevel=ERROR',
    ...(identity ? ['-i', identity] : []), ...extra,
  ];
}
