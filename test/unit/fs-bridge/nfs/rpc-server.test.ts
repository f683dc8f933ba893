/** Unit tests of the RPC server over real TCP: dispatch and every error reply form. */
import assert from 'node:assert/strict';
import { AcceptStat, AuthStat, ProcUnavailError, RpcServer, type AuthSys, type CallContext } from '../../../../fs-bridge/nfs/rpc';
import { XdrWriter } from '../../../../fs-bridge/nfs/xdr';
import { RpcTestClient, frame } from '../../../helpers/nfs-rpc-client';

describe('fs-bridge/nfs rpc server', () => {
  let server: RpcServer;
  let client: RpcTestClient;
  let seen: AuthSys | undefined;

  before(async () => {
    server = new RpcServer({ maxRecordBytes: 1 << 20 });
    server.register({
      prog: 400_000, lowVersion: 2, highVersion: 3,
      async handle(ctx: CallContext, w: XdrWriter) {
        seen = ctx.call.authSys;
        if (ctx.call.proc === 0) return;
        if (ctx.call.proc === 1) { w.uint32(ctx.call.args.uint32() * 2); return; } // double
        if (ctx.call.proc === 2) throw new Error('boom');
        throw new ProcUnavailError(ctx.call.proc);
      },
    });
    const port = await server.listen('127.0.0.1', 0);
    client = await RpcTestClient.connect('127.0.0.1', port);
  });
  after(async () => { client.close(); await server.close(); });

  it('answers a call with the program results', async () => {
    const r = await client.call(400_000, 3, 1, new XdrWriter().uint32(21));
    assert.equal(r.accepted, true);
    assert.equal(r.stat, AcceptStat.SUCCESS);
    assert.equal(r.body.uint32(), 42);
  });

  it('answers a call split into several fragments', async () => {
    const r = await client.call(400_000, 3, 1, new XdrWriter().uint32(50), { fragments: 5 });
    assert.equal(r.body.uint32(), 100);
  });

  it('parses AUTH_SYS credentials', async () => {
    await client.call(400_000, 3, 0, undefined, { auth: { stamp: 9, machineName: 'box', uid: 1000, gid: 100, gids: [100, 27] } });
    assert.deepEqual(seen, { stamp: 9, machineName: 'box', uid: 1000, gid: 100, gids: [100, 27] });
    await client.call(400_000, 3, 0, undefined, { auth: null });
    assert.equal(seen, undefined);
  });

  it('answers PROG_UNAVAIL for an unknown program', async () => {
    const r = await client.call(123_456, 1, 0);
    assert.equal(r.stat, AcceptStat.PROG_UNAVAIL);
  });

  it('answers PROG_MISMATCH with the supported version range', async () => {
    const r = await client.call(400_000, 4, 0);
    assert.equal(r.stat, AcceptStat.PROG_MISMATCH);
    assert.deepEqual([r.body.uint32(), r.body.uint32()], [2, 3]);
  });

  it('answers PROC_UNAVAIL for an unknown procedure', async () => {
    const r = await client.call(400_000, 3, 99);
    assert.equal(r.stat, AcceptStat.PROC_UNAVAIL);
  });

  it('answers GARBAGE_ARGS for truncated arguments', async () => {
    const r = await client.call(400_000, 3, 1, Buffer.alloc(0));
    assert.equal(r.stat, AcceptStat.GARBAGE_ARGS);
  });

  it('answers SYSTEM_ERR when the procedure fails unexpectedly and keeps serving', async () => {
    const r = await client.call(400_000, 3, 2);
    assert.equal(r.stat, AcceptStat.SYSTEM_ERR);
    assert.equal((await client.call(400_000, 3, 1, new XdrWriter().uint32(1))).body.uint32(), 2);
  });

  it('answers RPC_MISMATCH for an RPC version other than 2', async () => {
    const xid = client.nextXid();
    const p = client.replyTo(xid);
    client.sendRaw(frame(new XdrWriter().uint32(xid).uint32(0).uint32(3).uint32(400_000).uint32(3).uint32(0).toBuffer(), 1));
    const r = await p;
    assert.equal(r.accepted, false);
    assert.equal(r.stat, 0);
    assert.deepEqual([r.body.uint32(), r.body.uint32()], [2, 2]);
  });

  it('answers AUTH_ERROR for malformed AUTH_SYS credentials and an unknown flavor', async () => {
    for (const [flavor, body, want] of [[1, Buffer.alloc(4), AuthStat.AUTH_BADCRED], [6, Buffer.alloc(0), AuthStat.AUTH_TOOWEAK]] as const) {
      const xid = client.nextXid();
      const p = client.replyTo(xid);
      client.sendRaw(frame(new XdrWriter().uint32(xid).uint32(0).uint32(2).uint32(400_000).uint32(3).uint32(0).uint32(flavor).opaque(body).uint32(0).uint32(0).toBuffer(), 1));
      const r = await p;
      assert.equal(r.accepted, false);
      assert.equal(r.stat, 1);
      assert.equal(r.body.uint32(), want);
    }
  });

  it('answers GARBAGE_ARGS to a header cut short and survives it', async () => {
    const xid = client.nextXid();
    const p = client.replyTo(xid);
    client.sendRaw(frame(new XdrWriter().uint32(xid).uint32(0).uint32(2).toBuffer(), 1));
    assert.equal((await p).stat, AcceptStat.GARBAGE_ARGS);
    assert.equal((await client.call(400_000, 3, 1, new XdrWriter().uint32(4))).body.uint32(), 8);
  });

  it('closes a connection that announces a record over the limit', async () => {
    const c = await RpcTestClient.connect('127.0.0.1', (server as unknown as { server: { address(): { port: number } } }).server.address().port);
    const h = Buffer.alloc(4);
    h.writeUInt32BE((0x80000000 | (10 << 20)) >>> 0);
    c.sendRaw(h);
    const deadline = Date.now() + 5000;
    while (!c.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(c.closed, true);
  });
});
