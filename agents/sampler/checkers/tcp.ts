/**
 * @module agents/sampler/checkers/tcp
 * Health check by TCP connect: up when the port accepts a connection within the timeout.
 */
import net from 'node:net';
import { splitAddr } from '../../../appliance/common';

/** True when `addr` (host:port) accepts a TCP connection within `timeoutMs`. Never throws. */
export function checkTcp(addr: string, timeoutMs = 1000): Promise<boolean> {
  const { host, port } = splitAddr(addr);
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (up: boolean) => { sock.destroy(); clearTimeout(timer); resolve(up); };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}
