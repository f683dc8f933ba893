/**
 * @module test/integration/agents/sampler
 * The node agent on the real machine: CPU and /tmp free space within 0..100 and consistent
 * with df, a closed port reported down, an open one up, registrations sent to a conscience
 * (a small collecting HTTP server in this test).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { AddressInfo } from 'node:net';
import { Agent, blockDeviceOf, checkHttp, checkTcp, spaceFreePercent } from '../../../agents/sampler';
import type { ServiceRegistration } from '../../../appliance/common/model';
import { setLogLevel } from '../../../appliance/common';

/** Collects what agents POST to /v1/conscience/register. */
class RegistrationCollector {
  batches: ServiceRegistration[][] = [];
  private server: http.Server | undefined;

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (b: Buffer) => parts.push(b));
      req.on('end', () => {
        if (req.method === 'POST' && req.url === '/v1/conscience/register') {
          this.batches.push(JSON.parse(Buffer.concat(parts).toString('utf8')) as ServiceRegistration[]);
          res.writeHead(204).end();
        } else res.writeHead(404).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => { this.server?.closeAllConnections(); this.server?.close(() => resolve()); });
  }
}

/** A port nobody listens on: bind one, note it, close it. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function dfAvailPercent(p: string): number {
  const out = execFileSync('df', ['-P', '-B1', p], { encoding: 'utf8' }).trim().split('\n');
  const f = out[out.length - 1]!.trim().split(/\s+/);
  return (Number(f[3]) / Number(f[1])) * 100;
}

describe('agent sampler on the real machine', function () {
  let collector: RegistrationCollector;
  let conscienceAddr: string;
  let upServer: http.Server;
  let upAddr: string;
  let downAddr: string;

  before(async () => {
    setLogLevel('error');
    collector = new RegistrationCollector();
    conscienceAddr = await collector.start();
    upServer = http.createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((resolve) => upServer.listen(0, '127.0.0.1', resolve));
    upAddr = `127.0.0.1:${(upServer.address() as AddressInfo).port}`;
    downAddr = `127.0.0.1:${await closedPort()}`;
  });

  after(async () => {
    upServer.closeAllConnections();
    await new Promise<void>((resolve) => upServer.close(() => resolve()));
    await collector.stop();
    setLogLevel('info');
  });

  it('measures free space of /tmp consistently with df', async () => {
    const ours = await spaceFreePercent('/tmp');
    assert.ok(ours >= 0 && ours <= 100);
    assert.ok(Math.abs(ours - dfAvailPercent('/tmp')) < 1, `ours ${ours} vs df ${dfAvailPercent('/tmp')}`);
  });

  it('health-checks by TCP and HTTP with timeouts', async () => {
    assert.equal(await checkTcp(upAddr, 500), true);
    assert.equal(await checkTcp(downAddr, 500), false);
    assert.equal(await checkHttp(upAddr, '/health', 500), true, 'a 404 still proves the service is alive');
    assert.equal(await checkHttp(downAddr, '/', 500), false);
    // A listener that never answers: the timeout decides.
    const accepted: net.Socket[] = [];
    const mute = net.createServer((sock) => { accepted.push(sock); }); // accepts and stays silent
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
    const muteAddr = `127.0.0.1:${(mute.address() as AddressInfo).port}`;
    const t0 = Date.now();
    assert.equal(await checkHttp(muteAddr, '/', 300), false);
    assert.ok(Date.now() - t0 < 2000);
    for (const sock of accepted) sock.destroy();
    await new Promise<void>((resolve) => mute.close(() => resolve()));
  });

  it('finds the block device of / when it has one, and none for /proc', async () => {
    assert.equal(await blockDeviceOf('/proc'), undefined);
    const dev = await blockDeviceOf('/');
    if (dev) assert.match(dev.key, /^\d+:\d+$/);
  });

  it('samples, registers at start, reports a closed port as down, and stops', async () => {
    const agent = new Agent({
      conscienceAddrs: [conscienceAddr],
      intervalMs: 200,
      dataDir: '/tmp',
      services: [
        { type: 'rawx', addr: upAddr, id: 'rawx-up', loc: 'r1.k1.n1.v1', slots: ['rawx', 'rawx-ssd'], volume: '/tmp', check: 'http', checkPath: '/info' },
        { type: 'meta2', addr: downAddr, loc: 'r1.k1.n1', check: 'tcp' },
      ],
    });
    await agent.start();
    assert.ok(collector.batches.length >= 1, 'first registration is sent at start');
    const first = collector.batches[0]!;
    assert.equal(first.length, 2);
    const [up, down] = first as [ServiceRegistration, ServiceRegistration];
    assert.equal(up.type, 'rawx');
    assert.equal(up.id, 'rawx-up');
    assert.deepEqual(up.slots, ['rawx', 'rawx-ssd']);
    assert.equal(up.tags['tag.up'], true);
    assert.equal(up.tags['tag.vol'], '/tmp');
    assert.equal(down.tags['tag.up'], false);
    assert.equal(down.tags['tag.vol'], '/tmp', 'a service without volume uses the data dir');
    for (const r of first) {
      for (const k of ['stat.cpu', 'stat.io', 'stat.space']) {
        const v = r.tags[k];
        assert.equal(typeof v, 'number', k);
        assert.ok((v as number) >= 0 && (v as number) <= 100, `${k}=${String(v)}`);
        assert.equal(Math.round((v as number) * 10) / 10, v, `${k} has one decimal`);
      }
    }
    assert.ok(Math.abs((up.tags['stat.space'] as number) - dfAvailPercent('/tmp')) < 1);

    // The loop keeps registering.
    const deadline = Date.now() + 5000;
    while (collector.batches.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await agent.stop();
    assert.ok(collector.batches.length >= 3, `got ${collector.batches.length} registrations`);
    const n = collector.batches.length;
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(collector.batches.length, n, 'nothing after stop');

    const regs = await agent.sampleOnce();
    assert.equal(regs.length, 2);
  });

  it('keeps running when the conscience is down', async () => {
    const agent = new Agent({ conscienceAddrs: [`127.0.0.1:${await closedPort()}`], intervalMs: 100, services: [{ type: 'meta2', addr: upAddr, loc: 'n', check: 'tcp' }] });
    await agent.start();
    const regs = await agent.sampleOnce();
    assert.equal(regs[0]!.tags['stat.space'], 100, 'no volume and no data dir: 100');
    assert.equal(regs[0]!.tags['tag.io'], 'unknown');
    await agent.stop();
  });
});
