/**
 * `oio umount` waits for the mount process to stop: a process that exited but that its
 * parent has not reaped yet (a zombie: the mount's parent is gone, and PID 1 may reap late)
 * has stopped.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { alive } from '../../../../appliance/runtime/mount-command';

describe('runtime/mount-command alive()', () => {
  it('is true for a running process, false for a zombie and for no process', async () => {
    assert.equal(alive(process.pid), true);
    // bash starts a child that exits after 0.2 s, prints its pid, then becomes `sleep`, which
    // never reaps it: the child stays a zombie while sleep runs.
    const p = spawn('bash', ['-c', 'sleep 0.2 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const pid = await new Promise<number>((resolve) => p.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
      assert.ok(pid > 0);
      // Wait until the child has exited.
      for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(alive(pid), false);
      let signalled = true;
      try { process.kill(pid, 0); } catch { signalled = false; }
      assert.equal(signalled, true, 'the zombie is still in the process table');
      assert.equal(alive(p.pid!), true);
    } finally { p.kill('SIGKILL'); }
    assert.equal(alive(2 ** 22 + 1), false);
  });
});
