/**
 * E2E: the SSH admin console with OpenSSH's own client (`ssh`, `ssh-keygen`, `sftp`, `scp`)
 * against a real node: exec requests with output and exit status, known/unknown keys,
 * password refused when off and checked when on, keys managed live with `oio admin key`,
 * per-address failure limit, host key kept across a restart, and an interactive session
 * through a pseudo-terminal (`ssh -tt` fed keystrokes): prompt, completion, history, Ctrl-C.
 */
import assert from 'node:assert/strict';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from '../../../appliance/cli';
import { dumpLogsOnFailure, freshIp, startNode, TestNode, OIO_MAIN } from '../../helpers/grid';
import { tmpDir } from '../../helpers/tmp';
import { hasTool, opensshOptions, run, until } from './openssh';

describe('e2e: SSH admin console with OpenSSH', function () {
  let node: TestNode;
  let dir: string;
  let knownHosts: string;
  const key = (name: string) => path.join(dir, name);

  /** ssh options common to every call: no user config, no agent, our known_hosts. */
  const base = (identity: string | undefined, extra: string[] = []): string[] => opensshOptions(knownHosts, identity, '-p', extra);
  const ssh = (identity: string | undefined, remote: string[], extra: string[] = [], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}) =>
    run('ssh', [...base(identity, extra), `admin@${node.ip}`, ...remote], opts);
  /** the node's own oio CLI, run locally on its data folder (as an admin on the box would) */
  const oioLocal = (...args: string[]) => run(process.execPath, [OIO_MAIN, ...args, '--data', node.dataDir], { env: { OIO_PROXY: node.proxy } });

  before(async function () {
    for (const tool of ['ssh', 'ssh-keygen', 'sftp', 'scp']) {
      if (!hasTool(tool)) {
        if (process.env.CI === 'true') throw new Error(`${tool} missing (Debian package openssh-client)`);
        this.skip();
      }
    }
    dir = tmpDir('oio-ssh-');
    knownHosts = path.join(dir, 'known_hosts');
    for (const [name, type] of [['known', 'ed25519'], ['known-rsa', 'rsa'], ['unknown', 'ed25519']] as const) {
      execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', `${name}@test`, '-f', key(name)]);
    }
    node = await startNode({ config: { 'rawx.count': 2, 'admin_ssh.max_auth_failures': 3 } });
    for (const k of ['known', 'known-rsa']) {
      const r = await oioLocal('admin', 'key', 'add', key(`${k}.pub`));
      assert.equal(r.code, 0, r.stderr);
    }
  });
  afterEach(function () { dumpLogsOnFailure(this, node); });
  after(async () => { await node?.stop(); });

  describe('exec requests', () => {
    it('runs `oio cluster show` and returns its output with status 0', async () => {
      const r = await ssh(key('known'), ['oio', 'cluster', 'show']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /\| namespace +\| OPENIO +\|/);
    });

    it('accepts the command without the leading oio, and an RSA key (rsa-sha2 signatures)', async () => {
      const r = await ssh(key('known-rsa'), ['policy', 'list']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /THREECOPIES/);
    });

    it('returns a failing command\'s status and message on stderr', async () => {
      const r = await ssh(key('known'), ['oio', 'container', 'show', 'no-such-container']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /CONTAINER_NOT_FOUND/);
      const usage = await ssh(key('known'), ['oio', 'container', 'show']);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /usage: oio container show NAME/);
    });

    it('refuses anything that is not an oio command, and shell syntax', async () => {
      const ls = await ssh(key('known'), ['ls', '/']);
      assert.equal(ls.code, 127);
      assert.match(ls.stderr, /"ls" is not an oio command/);
      assert.equal(ls.stdout, '');
      const pipe = await ssh(key('known'), ['oio cluster show | cat /etc/passwd']);
      assert.equal(pipe.code, 2);
      assert.match(pipe.stderr, /not a shell/);
      assert.doesNotMatch(pipe.stdout + pipe.stderr, /root:/);
      const sub = await ssh(key('known'), ['container', 'create', '$(id)']);
      assert.equal(sub.code, 2);
    });

    it('refuses commands that would read or write the host\'s files', async () => {
      const up = await ssh(key('known'), ['object', 'create', 'c1', '/etc/passwd']);
      assert.equal(up.code, 1);
      assert.match(up.stderr, /NOT_ALLOWED/);
      const down = await ssh(key('known'), ['object', 'save', 'c1', 'x', '--file', '/tmp/x']);
      assert.equal(down.code, 1);
      assert.match(down.stderr, /NOT_ALLOWED/);
      const data = await ssh(key('known'), ['admin', 'key', 'list', '--data', '/']);
      assert.equal(data.code, 1);
      assert.match(data.stderr, /NOT_ALLOWED/);
    });

    it('refuses port forwarding and --proxy: no way onto the host\'s network', async () => {
      const fwd = await ssh(key('known'), [], ['-W', node.proxy]);
      assert.equal(fwd.code, 255);
      assert.equal(fwd.stdout, '');
      assert.match(node.logs(), /"msg":"ssh login"/);
      const proxy = await ssh(key('known'), ['cluster', 'show', '--proxy', '127.0.0.1:22']);
      assert.equal(proxy.code, 2);
      assert.match(proxy.stderr, /--proxy is not available/);
    });

    it('shows node status: volumes with device, capacity, IO and scores', async () => {
      const r = await ssh(key('known'), ['oio', 'node', 'status', '--format', 'json']);
      assert.equal(r.code, 0, r.stderr);
      const rows = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
      const rawx = rows.filter((x) => x.Type === 'rawx');
      assert.equal(rawx.length, 2);
      for (const v of rawx) {
        assert.ok(String(v.Volume).startsWith(node.dataDir), String(v.Volume));
        assert.match(String(v.Size), /\d/);
        assert.match(String(v.Free), /\d/);
        assert.ok(typeof v['IO idle %'] === 'number' || v['IO idle %'] === 'unknown');
        assert.equal(typeof v.Score, 'number');
      }
      assert.ok(rows.some((x) => x.Type === 'admin-ssh'), 'the console registers itself');
    });

    it('shows the node\'s recent log lines, including this console\'s logins', async () => {
      const r = await ssh(key('known'), ['node', 'logs', '--svc', 'admin-ssh', '--lines', '200']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /ssh console listening/);
      assert.match(r.stdout, /ssh key accepted .*known@test/);
    });

    it('runs `cluster watch` for a given number of refreshes', async () => {
      const r = await ssh(key('known'), ['cluster', 'watch', 'rawx', '--interval', '200', '--count', '2']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((r.stdout.match(/refresh every 200 ms/g) ?? []).length, 2);
    });

    it('answers scp or sftp typed as a console command with how to run them from the client', async () => {
      const r = await ssh(key('known'), ['scp', 'x', 'y']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /run it from your machine: sftp admin@NODE/);
    });
  });

  describe('authentication', () => {
    it('refuses an unknown key and logs the failure', async () => {
      const r = await ssh(key('unknown'), ['cluster', 'show'], ['-b', freshIp()]);
      assert.equal(r.code, 255);
      assert.match(r.stderr, /Permission denied \(publickey\)/);
      assert.match(node.logs(), /"msg":"ssh login failed".*"why":"key not authorized"/);
    });

    it('refuses a login name other than admin_ssh.user with a known key', async () => {
      const r = await run('ssh', [...base(key('known'), ['-b', freshIp()]), `root@${node.ip}`, 'cluster', 'show']);
      assert.equal(r.code, 255);
      assert.match(r.stderr, /Permission denied/);
    });

    it('refuses passwords when password login is off, even a correct one', async () => {
      const set = await run(process.execPath, [OIO_MAIN, 'admin', 'password', 'set', '--data', node.dataDir], { env: { OIO_ADMIN_PASSWORD: 'correct horse battery' } });
      assert.equal(set.code, 0, set.stderr);
      const askpass = path.join(dir, 'askpass.sh');
      const asked = path.join(dir, 'askpass-called');
      fs.writeFileSync(askpass, `#!/bin/sh\ntouch '${asked}'\necho 'correct horse battery'\n`, { mode: 0o755 });
      const r = await run('ssh', [...base(undefined, ['-b', freshIp()]).map((a) => (a === 'BatchMode=yes' ? 'BatchMode=no' : a)),
        '-o', 'PreferredAuthentications=password', '-o', 'PubkeyAuthentication=no', '-o', 'NumberOfPasswordPrompts=1', `admin@${node.ip}`, 'cluster', 'show'],
      { env: { SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' } });
      assert.equal(r.code, 255);
      assert.match(r.stderr, /Permission denied \(publickey\)/);
      assert.equal(fs.existsSync(asked), false, 'the server offered password login');
    });

    it('applies `oio admin key remove|add` at once, without a restart', async () => {
      const list = await oioLocal('admin', 'key', 'list', '--format', 'json');
      const entry = (JSON.parse(list.stdout) as Array<{ Name: string; Fingerprint: string }>).find((k) => k.Name === 'known-rsa@test');
      assert.ok(entry, list.stdout);
      assert.equal((await oioLocal('admin', 'key', 'remove', entry.Fingerprint)).code, 0);
      const refused = await ssh(key('known-rsa'), ['cluster', 'show'], ['-b', freshIp()]);
      assert.equal(refused.code, 255);
      assert.equal((await oioLocal('admin', 'key', 'add', key('known-rsa.pub'))).code, 0);
      assert.equal((await ssh(key('known-rsa'), ['cluster', 'show'])).code, 0);
    });

    it('lists the keys from inside the console', async () => {
      const r = await ssh(key('known'), ['admin', 'key', 'list']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /known@test/);
      assert.match(r.stdout, /SHA256:/);
    });

    it('refuses a source address after too many failures, other addresses still log in', async () => {
      const src = freshIp();
      for (let i = 0; i < 3; i++) assert.equal((await ssh(key('unknown'), ['cluster', 'show'], ['-b', src])).code, 255);
      const blocked = await ssh(key('known'), ['cluster', 'show'], ['-b', src]);
      assert.equal(blocked.code, 255, 'a known key from a blocked address must be refused');
      assert.match(node.logs(), new RegExp(`"msg":"ssh (source blocked|connection refused)[^"]*".*"remote":"${src.replace(/\./g, '\\.')}"`));
      const other = await ssh(key('known'), ['cluster', 'show'], ['-b', freshIp()]);
      assert.equal(other.code, 0, other.stderr);
    });
  });

  describe('interactive session through a pseudo-terminal', () => {
    let proc: ChildProcess | undefined;
    afterEach(() => { proc?.kill('SIGKILL'); });

    it('shows the prompt, completes, recalls history, cancels with Ctrl-C and leaves with Ctrl-D', async () => {
      assert.equal((await ssh(key('known'), ['container', 'create', 'e2e-console-box'])).code, 0);
      const p = spawn('ssh', ['-tt', ...base(key('known')), `admin@${node.ip}`], { stdio: ['pipe', 'pipe', 'pipe'] });
      proc = p;
      let out = '';
      p.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
      p.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
      const exited = new Promise<number | null>((resolve) => p.on('close', (code) => resolve(code)));
      const prompt = `OPENIO@${node.ip}> `;
      const count = (s: string) => out.split(s).length - 1;
      const send = (s: string) => p.stdin!.write(s);

      await until(() => out.includes(prompt), 'the prompt');
      // Tab completes the command words and the container name (listed from the store).
      send('cont\t');
      await until(() => out.includes(`${prompt}container `), 'completion of "container"');
      send('sh\t');
      await until(() => out.includes(`${prompt}container show `), 'completion of "show"');
      send('e2e-console-b\t');
      await until(() => out.includes(`${prompt}container show e2e-console-box `), 'completion of the container name');
      send('\r');
      await until(() => count('| container ') === 1 && count(prompt) >= 2 && out.lastIndexOf(prompt) > out.indexOf('| container '), 'container show output');
      assert.match(out, /\| container +\| e2e-console-box +\|/);

      // Up arrow recalls the last command; Enter runs it again.
      const before = out.length;
      send('\x1b[A');
      await until(() => out.slice(before).includes(`${prompt}container show e2e-console-box `), 'history recall');
      send('\r');
      await until(() => count('| container ') === 2, 'second run from history');

      // Ctrl-C cancels a running command and gives the prompt back.
      send('cluster watch --interval 200\r');
      await until(() => count('refresh every 200 ms') >= 2, 'cluster watch refreshing');
      const prompts = count(prompt);
      send('\x03');
      await until(() => out.includes('^C') && count(prompt) > prompts, 'prompt after Ctrl-C');
      send('cluster show\r');
      await until(() => /\| namespace +\| OPENIO +\|/.test(out.slice(out.lastIndexOf('^C'))), 'a command after Ctrl-C');
      const refreshes = count('refresh every 200 ms');
      send('help\r');
      await until(() => out.includes('it is not a shell') && out.includes('oio cluster watch'), 'help');
      assert.equal(count('refresh every 200 ms'), refreshes, 'the cancelled watch printed after Ctrl-C');

      // Ctrl-D leaves; the session's status is the last command's.
      send('\x04');
      assert.equal(await exited, 0);
    });
  });

  describe('shell without a pseudo-terminal (ssh -T, scripts)', () => {
    it('runs one command per input line and exits with the last status', async () => {
      const r = await ssh(key('known'), [], ['-T'], { input: 'oio cluster show\ncontainer show no-such-container\n' });
      assert.match(r.stdout, /\| namespace +\| OPENIO +\|/);
      assert.match(r.stderr, /CONTAINER_NOT_FOUND/);
      assert.equal(r.code, 1);
      const ok = await ssh(key('known'), [], ['-T'], { input: 'policy list\nexit\ncluster show\n' });
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /THREECOPIES/);
      assert.doesNotMatch(ok.stdout, /namespace/, 'lines after exit must not run');
    });
  });

  describe('exec with a pseudo-terminal', () => {
    it('cancels `ssh -t node cluster watch` on Ctrl-C with status 130', async () => {
      const p = spawn('ssh', ['-tt', ...base(key('known')), `admin@${node.ip}`, 'cluster', 'watch', '--interval', '200'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      const exited = new Promise<number | null>((resolve) => p.on('close', (code) => resolve(code)));
      try {
        await until(() => (out.match(/refresh every 200 ms/g) ?? []).length >= 2, 'cluster watch refreshing');
        p.stdin.write('\x03');
        assert.equal(await exited, 130);
      } finally {
        p.kill('SIGKILL');
      }
    });
  });

  describe('restart', () => {
    it('keeps the host key, and checks passwords when password login is on', async () => {
      const hostKey = fs.readFileSync(path.join(node.dataDir, 'admin-ssh', 'host_key'), 'utf8');
      const conf = JSON.parse(fs.readFileSync(node.configFile, 'utf8')) as Record<string, unknown>;
      fs.writeFileSync(node.configFile, JSON.stringify({ ...conf, 'admin_ssh.password_auth': true }));
      await node.stop();
      await node.restart();
      assert.equal(fs.readFileSync(path.join(node.dataDir, 'admin-ssh', 'host_key'), 'utf8'), hostKey);
      // StrictHostKeyChecking=yes: the client refuses a changed host key.
      const r = await ssh(key('known'), ['cluster', 'show'], ['-o', 'StrictHostKeyChecking=yes']);
      assert.equal(r.code, 0, r.stderr);

      const withPassword = async (password: string) => {
        const askpass = path.join(dir, `askpass-${password.length}.sh`);
        fs.writeFileSync(askpass, `#!/bin/sh\necho '${password}'\n`, { mode: 0o755 });
        return run('ssh', [...base(undefined, ['-b', freshIp()]).map((a) => (a === 'BatchMode=yes' ? 'BatchMode=no' : a)),
          '-o', 'PreferredAuthentications=password', '-o', 'PubkeyAuthentication=no', '-o', 'NumberOfPasswordPrompts=1', `admin@${node.ip}`, 'cluster', 'show'],
        { env: { SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' } });
      };
      const good = await withPassword('correct horse battery');
      assert.equal(good.code, 0, good.stderr);
      assert.match(good.stdout, /namespace/);
      const bad = await withPassword('wrong horse battery');
      assert.equal(bad.code, 255);
      assert.match(bad.stderr, /Permission denied/);
    });
  });
});

describe('cluster watch and its AbortSignal', function () {
  let node: TestNode;
  before(async () => { node = await startNode({ config: { 'rawx.count': 1 }, services: ['conscience', 'meta0', 'meta1', 'account', 'meta2', 'rawx', 'proxy'] }); });
  afterEach(function () { dumpLogsOnFailure(this, node); });
  after(async () => { await node?.stop(); });

  it('ends when the signal aborts (what Ctrl-C in the console does)', async () => {
    const abort = new AbortController();
    let out = '';
    const done = runCli(['cluster', 'watch', '--interval', '100'], { out: (s) => { out += s; }, err: (s) => { out += s; } }, { OIO_PROXY: node.proxy }, abort.signal);
    await until(() => (out.match(/refresh every/g) ?? []).length >= 2, 'two refreshes');
    abort.abort();
    assert.equal(await done, 0);
    const n = (out.match(/refresh every/g) ?? []).length;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((out.match(/refresh every/g) ?? []).length, n);
  });
});
