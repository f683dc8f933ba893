/** Unit tests of NfsServer start-up: the fallback to a high port when the asked one is taken. */
import assert from 'node:assert/strict';
import net from 'node:net';
import { ExportTable, NfsServer } from '../../../../fs-bridge/nfs';
import { RpcTestClient } from '../../../helpers/nfs-rpc-client';
import { MemoryBridgeFs } from './memory-bridge-fs';

describe('fs-bridge/nfs server start-up', () => {
  it('falls back to a free high port when the NFS port is in use, and serves there', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const taken = (blocker.address() as net.AddressInfo).port;
    const fs = new MemoryBridgeFs();
    const server = new NfsServer(new ExportTable({ containers: async () => ['c'], open: async () => fs }), { host: '127.0.0.1', port: taken });
    try {
      await server.start();
      assert.equal(server.fellBack, true);
      assert.notEqual(server.port, taken);
      const c = await RpcTestClient.connect('127.0.0.1', server.port);
      assert.equal((await c.mnt('/c')).length, 28);
      c.close();
    } finally {
      await server.stop();
      blocker.close();
    }
  });
});
