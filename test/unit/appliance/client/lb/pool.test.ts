/** Unit tests of client/lb/pool: weighted choice, distances, slot fallback, policies. */
import assert from 'node:assert/strict';
import {
  choosePool, dataSecurityCount, fitTargets, LoadBalancer, locationDistance, parseDataSecurity, policyPoolRequest,
  PoolRequest, resolveChoose, resolveStoragePolicy, validatePoolSpec,
} from '../../../../../appliance/client/lb';
import { OioError } from '../../../../../appliance/common/errors';
import type { NamespaceInfo, ServiceInfo } from '../../../../../appliance/common/model';
import { DEFAULT_DATA_SECURITY, DEFAULT_STORAGE_POLICIES } from '../../../../../appliance/common/config';

function svc(id: string, score: number, loc: string, opts: { slots?: string[]; up?: boolean; type?: string } = {}): ServiceInfo {
  const type = opts.type ?? 'rawx';
  return {
    type, id, addr: `127.0.0.1:${6200 + Number(id.replace(/\D/g, '') || 0)}`, loc, slots: [type, ...(opts.slots ?? [])],
    tags: opts.up === undefined ? {} : { 'tag.up': opts.up }, score, scoreGet: score, locked: false, mtime: 0,
  };
}

function pool(count: number, slots: string[], extra: Partial<PoolRequest> = {}): PoolRequest {
  return { name: 'test', targets: [{ count, slots }], minDist: 1, maxDist: 4, warnDist: 0, nearby: false, ...extra };
}

function ns(extra: Partial<NamespaceInfo> = {}): NamespaceInfo {
  return {
    ns: 'T', chunkSize: 1 << 20, storagePolicy: 'THREECOPIES', storagePolicies: { ...DEFAULT_STORAGE_POLICIES },
    dataSecurity: { ...DEFAULT_DATA_SECURITY, EC42: 'ec/k=4,m=2,algo=isa_l_rs_vand,distance=1' }, pools: {},
    scoreExpr: {}, scoreTimeoutMs: 30_000, scoreVariationBound: 5, maxVersions: 1, bulletinRefreshMs: 1000, ...extra,
  };
}

const isNotSatisfiable = (e: unknown) => e instanceof OioError && e.code === 'POLICY_NOT_SATISFIABLE';

describe('client/lb/pool', () => {
  it('chooses by weighted random: score 80 vs 20 is about 4:1 over 10,000 draws', () => {
    const services = [svc('a1', 80, 'r.k.h1.v1'), svc('b2', 20, 'r.k.h2.v1')];
    let a = 0;
    for (let i = 0; i < 10_000; i++) if (choosePool(services, pool(1, ['rawx'])).services[0]!.id === 'a1') a++;
    // expected 8000, sd = sqrt(10000 * 0.8 * 0.2) = 40: 5 sd either side
    assert.ok(a > 7800 && a < 8200, `a chosen ${a} times out of 10000`);
  });

  it('never chooses a service with score 0, down, or avoided', () => {
    const services = [svc('z0', 0, 'r.k.h1.v1'), svc('d1', 90, 'r.k.h2.v1', { up: false }), svc('v2', 90, 'r.k.h3.v1'), svc('ok3', 1, 'r.k.h4.v1')];
    for (let i = 0; i < 2000; i++) {
      const got = choosePool(services, pool(1, ['rawx']), { avoid: ['v2'] }).services;
      assert.deepEqual(got.map((s) => s.id), ['ok3']);
    }
  });

  it('respects min_dist and throws POLICY_NOT_SATISFIABLE saying needed/found', () => {
    const services = [svc('s1', 50, 'r.k.h1.v1'), svc('s2', 50, 'r.k.h1.v2'), svc('s3', 50, 'r.k.h2.v1')];
    for (let i = 0; i < 500; i++) {
      const got = choosePool(services, pool(2, ['rawx'], { minDist: 2 })).services;
      assert.equal(got.length, 2);
      assert.ok(locationDistance(got[0]!.loc, got[1]!.loc) >= 2);
    }
    assert.throws(() => choosePool(services, pool(3, ['rawx'], { minDist: 2 })),
      (e: unknown) => isNotSatisfiable(e) && /needed 3 services/.test((e as Error).message) && /found 2/.test((e as Error).message));
  });

  it('reaches for max_dist when the grid allows it', () => {
    // Two hosts with 3 volumes each: 2 services at max_dist 4 means 2 hosts (distance 2).
    const services = [1, 2, 3].flatMap((v) => [svc(`a${v}`, 50, `r.k.h1.v${v}`), svc(`b${v}`, 50, `r.k.h2.v${v}`)]);
    for (let i = 0; i < 300; i++) {
      const c = choosePool(services, pool(2, ['rawx']));
      assert.equal(c.distance, 2);
    }
    // With max_dist 1, same-host pairs appear too.
    let sameHost = 0;
    for (let i = 0; i < 300; i++) if (choosePool(services, pool(2, ['rawx'], { maxDist: 1 })).distance === 1) sameHost++;
    assert.ok(sameHost > 50, `same host ${sameHost}`);
  });

  it('sets the warning flag below warn_dist', () => {
    const services = [svc('s1', 50, 'r.k.h1.v1'), svc('s2', 50, 'r.k.h1.v2')];
    const c = choosePool(services, pool(2, ['rawx'], { warnDist: 2 }));
    assert.equal(c.distance, 1);
    assert.equal(c.warning, true);
    assert.equal(choosePool(services, pool(2, ['rawx'], { warnDist: 1 })).warning, false);
  });

  it('prefers close services in nearby_mode', () => {
    const services = [svc('a1', 50, 'r.k.h1.v1'), svc('a2', 50, 'r.k.h1.v2'), svc('b1', 50, 'r.k.h2.v1'), svc('b2', 50, 'r.k.h2.v2')];
    for (let i = 0; i < 300; i++) assert.equal(choosePool(services, pool(2, ['rawx'], { nearby: true })).distance, 1);
  });

  it('falls back to the next slot when the first is exhausted', () => {
    const services = [svc('ssd1', 50, 'r.k.h1.v1', { slots: ['rawx-ssd'] }), svc('hdd2', 50, 'r.k.h2.v1'), svc('hdd3', 50, 'r.k.h3.v1')];
    let sawSsd = 0;
    for (let i = 0; i < 200; i++) {
      const ids = choosePool(services, pool(2, ['rawx-ssd', 'rawx'])).services.map((s) => s.id);
      assert.equal(ids.length, 2);
      assert.equal(ids[0], 'ssd1', 'the first pick comes from the first slot');
      if (ids.includes('ssd1')) sawSsd++;
    }
    assert.equal(sawSsd, 200);
    // No ssd at all: every pick falls back.
    assert.equal(choosePool(services, pool(2, ['rawx-ssd', 'rawx']), { avoid: ['ssd1'] }).services.length, 2);
    assert.throws(() => choosePool(services, pool(1, ['rawx-ssd']), { avoid: ['ssd1'] }), isNotSatisfiable);
  });

  it('serves several targets in order', () => {
    const services = [svc('e1', 50, 'r.k.h1.v1', { slots: ['even'] }), svc('o2', 50, 'r.k.h2.v1', { slots: ['odd'] }), svc('e3', 50, 'r.k.h3.v1', { slots: ['even'] })];
    const req: PoolRequest = { ...pool(1, ['odd']), targets: [{ count: 1, slots: ['odd'] }, { count: 2, slots: ['even'] }] };
    const ids = choosePool(services, req).services.map((s) => s.id);
    assert.equal(ids[0], 'o2');
    assert.deepEqual(ids.slice(1).sort(), ['e1', 'e3']);
  });

  it('parses data security definitions', () => {
    assert.deepEqual(parseDataSecurity('plain/distance=1,nb_copy=3'), { kind: 'plain', nbCopy: 3, distance: 1, raw: 'plain/distance=1,nb_copy=3' });
    const ec = parseDataSecurity('ec/k=6,m=3,algo=liberasurecode_rs_vand,distance=1');
    assert.equal(ec.kind, 'ec');
    assert.equal(dataSecurityCount(ec), 9);
    assert.throws(() => parseDataSecurity('ec/k=6'), /missing m/);
    assert.throws(() => parseDataSecurity('raid/x=1'), /unknown kind/);
    assert.throws(() => parseDataSecurity('plain/nb_copy=zero'), /nb_copy must be an integer/);
  });

  it('turns a storage policy into a pool request', () => {
    const info = ns();
    const sp = resolveStoragePolicy('THREECOPIES', info);
    assert.equal(sp.pool, 'NONE');
    assert.equal(sp.dataSecurityName, 'DUPONETHREE');
    const req = policyPoolRequest('THREECOPIES', info);
    assert.deepEqual(req.targets, [{ count: 3, slots: ['rawx'] }]);
    assert.equal(req.minDist, 1);
    assert.equal(policyPoolRequest('SINGLE', info).minDist, 0);
    assert.deepEqual(policyPoolRequest('NONE:EC42', info).targets, [{ count: 6, slots: ['rawx'] }]);
    assert.throws(() => policyPoolRequest('NOPE', info), /unknown storage policy/);
  });

  it('fits a named pool to the policy count', () => {
    const info = ns({ pools: { evenodd: validatePoolSpec('evenodd', { targets: [{ count: 1, slots: ['even'] }, { count: 1, slots: ['odd'] }], min_dist: 2 }) }, storagePolicies: { EO3: 'evenodd:DUPONETHREE' } });
    const req = policyPoolRequest('EO3', info);
    assert.deepEqual(req.targets.map((t) => t.slots[0]), ['even', 'odd', 'even']);
    assert.equal(req.minDist, 2);
    assert.deepEqual(fitTargets([{ count: 5, slots: ['x'] }], 2), [{ count: 2, slots: ['x'] }]);
  });

  it('resolves choose requests by pool, policy or type', () => {
    const info = ns();
    assert.deepEqual(resolveChoose({ type: 'meta2', count: 3 }, info).targets, [{ count: 3, slots: ['meta2'] }]);
    assert.deepEqual(resolveChoose({ pool: 'meta1' }, info).targets, [{ count: 1, slots: ['meta1'] }]);
    assert.deepEqual(resolveChoose({ policy: 'TWOCOPIES' }, info).targets, [{ count: 2, slots: ['rawx'] }]);
    assert.throws(() => resolveChoose({}, info), /one of policy, pool or type/);
  });

  it('rejects malformed pools naming the field', () => {
    assert.throws(() => validatePoolSpec('p', { targets: [] }), /pool "p": targets/);
    assert.throws(() => validatePoolSpec('p', { targets: [{ count: 0, slots: ['rawx'] }] }), /target 0: count/);
    assert.throws(() => validatePoolSpec('p', { targets: [{ count: 1, slots: ['rawx'] }], min_dist: 3, max_dist: 2 }), /min_dist 3 is above max_dist 2/);
  });

  it('chooses locally from a cached bulletin and orders by get score', () => {
    const services = [svc('a1', 10, 'r.k.h1.v1'), svc('b2', 90, 'r.k.h2.v1'), svc('c3', 50, 'r.k.h3.v1')];
    const lb = LoadBalancer.fromSnapshot({ ns: 'T', time: 0, services }, ns());
    assert.deepEqual(lb.get('rawx').map((s) => s.id), ['b2', 'c3', 'a1']);
    assert.equal(lb.choose({ policy: 'THREECOPIES' }).services.length, 3);
    assert.equal(lb.byId('c3')?.addr, services[2]!.addr);
    assert.equal(lb.byAddr(services[0]!.addr)?.id, 'a1');
    assert.deepEqual(lb.sortByGetScore([services[0]!.addr, 'x:1', services[1]!.addr]), [services[1]!.addr, services[0]!.addr, 'x:1']);
    assert.throws(() => lb.choose({ policy: 'THREECOPIES', avoid: ['a1'] }), isNotSatisfiable);
  });
});
