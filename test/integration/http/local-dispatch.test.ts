/**
 * The HTTP kit's in-process calls: a JSON call to a service listening in the same process is
 * served without a socket, with the same routes, bodies, errors, redirections and timeout as
 * over HTTP; a health check still goes through the socket; a closed service is called over
 * the network again.
 */
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { HttpService, Logger, STATUS_PATH, callJson, localService, setLogLevel, setLogSink, recentLogLines, OioError } from '../../../appliance/common';
import { freshIp } from '../../helpers/grid';

describe('common/http in-process calls', () => {
  const store = new AsyncLocalStorage<string>();
  let svc: HttpService;
  let other: HttpService;
  let addr: string;
  let otherAddr: string;
  const sockets: string[] = [];

  before(async () => {
    // The access lines are checked: info level, whatever an earlier test file set (rawx tests
    // set 'error' for the whole process).
    setLogLevel('info');
    setLogSink({ write: () => undefined });
    const ip = freshIp();
    svc = new HttpService(new Logger({ svc: 'local-test' }));
    svc.route('POST', '/v1/echo/:name', async (c) => ({
      name: c.params.name, q: c.query.get('q'), body: await c.json(), reqId: c.reqId,
      header: c.req.headers['x-test'] ?? null, socket: c.req.socket !== undefined, store: store.getStore() ?? null,
    }));
    svc.route('GET', '/v1/fail', () => { throw new OioError('CONTENT_NOT_FOUND', 'nothing here', { details: { why: 'test' } }); });
    svc.route('GET', '/v1/empty', () => undefined);
    svc.route('GET', '/v1/slow', () => new Promise((r) => setTimeout(() => r({ late: true }), 500)));
    svc.route('GET', '/v1/moved', () => { throw new OioError('NOT_MASTER', 'elsewhere', { details: { master: otherAddr } }); });
    svc.route('GET', '/v1/boom', () => { throw new Error('a bug'); });
    other = new HttpService(new Logger({ svc: 'local-test-2' }));
    other.route('GET', '/v1/moved', () => ({ from: 'master' }));
    addr = `${ip}:${await svc.listen(ip, 0)}`;
    otherAddr = `${ip}:${await other.listen(ip, 0)}`;
    // the server's own requests (not the in-process ones) are seen here
    (svc as unknown as { server: import('node:http').Server }).server.on('request', (req) => sockets.push(req.url ?? ''));
  });

  after(async () => {
    setLogSink({ write: (l) => process.stdout.write(l) });
    await svc.close();
    await other.close();
  });

  it('serves a JSON call without a socket: params, query, body, headers and request id kept, no caller context', async () => {
    assert.equal(localService(addr), svc);
    const out = await store.run('caller', () => callJson<Record<string, unknown>>(addr, '/v1/echo/a%2Fb', {
      method: 'POST', query: { q: 'x y' }, body: { n: 1, s: 'é' }, headers: { 'X-Test': 'yes' }, reqId: 'r123',
    }));
    assert.deepEqual(out, { name: 'a/b', q: 'x y', body: { n: 1, s: 'é' }, reqId: 'r123', header: 'yes', socket: false, store: null });
    assert.deepEqual(sockets, []);
    assert.ok(recentLogLines(50).some((l) => l.includes('"route":"/v1/echo/:name"') && l.includes('r123')), 'the access line is written');
  });

  it('rebuilds errors as over HTTP, answers 204 as undefined, follows NOT_MASTER', async () => {
    await assert.rejects(callJson(addr, '/v1/fail'), (e: OioError) => e.code === 'CONTENT_NOT_FOUND' && e.message === 'nothing here' && e.details?.why === 'test');
    await assert.rejects(callJson(addr, '/v1/boom'), (e: OioError) => e.code === 'INTERNAL');
    await assert.rejects(callJson(addr, '/v1/nowhere'), (e: OioError) => e.code === 'BAD_REQUEST');
    assert.equal(await callJson(addr, '/v1/empty'), undefined);
    assert.deepEqual(await callJson(addr, '/v1/moved'), { from: 'master' });
    assert.deepEqual(sockets, []);
  });

  it('times out like a socket call', async () => {
    await assert.rejects(callJson(addr, '/v1/slow', { timeoutMs: 50 }), (e: OioError) => e.code === 'TIMEOUT');
    assert.deepEqual(await callJson(addr, '/v1/slow', { timeoutMs: 2000 }), { late: true });
  });

  it('sends health checks through the socket', async () => {
    const st = await callJson<{ status: string }>(addr, STATUS_PATH);
    assert.equal(st.status, 'ok');
    assert.deepEqual(sockets, [STATUS_PATH]);
  });

  it('calls a closed service over the network (refused)', async () => {
    const ip = freshIp();
    const gone = new HttpService(new Logger({ svc: 'gone' }));
    gone.route('GET', '/v1/x', () => ({ ok: true }));
    const a = `${ip}:${await gone.listen(ip, 0)}`;
    assert.deepEqual(await callJson(a, '/v1/x'), { ok: true });
    await gone.close();
    assert.equal(localService(a), undefined);
    await assert.rejects(callJson(a, '/v1/x', { timeoutMs: 2000 }), (e: OioError) => e.code === 'UNAVAILABLE');
  });
});
