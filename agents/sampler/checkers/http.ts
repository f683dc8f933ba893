/**
 * @module agents/sampler/checkers/http
 * Health check by HTTP GET: up when the service answers with a status below 500 within the
 * timeout (a 404 still proves the service is alive and serving).
 */
import http from 'node:http';
import { splitAddr } from '../../../appliance/common';

/** True when GET http://addr/checkPath answers < 500 within `timeoutMs`. Never throws. */
export function checkHttp(addr: string, checkPath = '/', timeoutMs = 1000): Promise<boolean> {
  const { host, port } = splitAddr(addr);
  return new Promise((resolve) => {
    let settled = false;
    const done = (up: boolean) => { if (!settled) { settled = true; clearTimeout(timer); resolve(up); } };
    const req = http.request({ host, port, path: checkPath, method: 'GET', agent: false, headers: { connection: 'close' } }, (res) => {
      res.resume();
      done((res.statusCode ?? 500) < 500);
    });
    const timer = setTimeout(() => { req.destroy(); done(false); }, timeoutMs);
    req.once('error', () => done(false));
    req.end();
  });
}
