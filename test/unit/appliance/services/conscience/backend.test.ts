/** Unit tests of services/conscience/backend: scores, bounded rise, timeout, locks, config. */
import assert from 'node:assert/strict';
import { buildNamespaceInfo, ConscienceBackend } from '../../../../../appliance/services/conscience';
import { loadConfig } from '../../../../../appliance/common/config';
import { OioError } from '../../../../../appliance/common/errors';
import type { ServiceRegistration } from '../../../../../appliance/common/model';

function setup(overrides: Record<string, unknown> = {}) {
  let now = 1_000_000;
  const config = loadConfig({ overrides: { 'ns.score_timeout': '30s', 'ns.score_variation_bound': 5, ...overrides } });
  const backend = new ConscienceBackend(buildNamespaceInfo(config), { now: () => now });
  return { backend, advance: (ms: number) => { now += ms; } };
}

function rawx(id: string, stats: { cpu: number; io: number; space: number }, extra: Partial<ServiceRegistration> = {}): ServiceRegistration {
  return {
    type: 'rawx', addr: `127.0.0.1:${6200 + Number(id.replace(/\D/g, ''))}`, id, loc: `r.k.h1.${id}`,
    tags: { 'tag.up': true, 'stat.cpu': stats.cpu, 'stat.io': stats.io, 'stat.space': stats.space }, ...extra,
  };
}

const full = { cpu: 100, io: 100, space: 100 };
const get = (b: ConscienceBackend, id: string) => b.list('rawx').find((s) => s.id === id)!;

describe('services/conscience/backend', () => {
  it('starts a new service at the variation bound and rises by at most the bound per registration', () => {
    const { backend, advance } = setup();
    const seen: number[] = [];
    for (let i = 0; i < 25; i++) { backend.register([rawx('v1', full)]); seen.push(get(backend, 'v1').score); advance(1000); }
    assert.deepEqual(seen.slice(0, 4), [5, 10, 15, 20]);
    assert.equal(seen[19], 100);
    assert.equal(seen[24], 100);
  });

  it('lets a score fall at once', () => {
    const { backend } = setup();
    for (let i = 0; i < 25; i++) backend.register([rawx('v1', full)]);
    assert.equal(get(backend, 'v1').score, 100);
    backend.register([rawx('v1', { cpu: 100, io: 8, space: 100 })]);
    assert.equal(get(backend, 'v1').score, Math.round(Math.cbrt(100 * 8 * 100)));
  });

  it('computes the put score as the geometric mean; 0 free space gives 0, a saturated CPU or disk counts as 1% idle', () => {
    const { backend } = setup({ 'ns.score_variation_bound': 100 });
    backend.register([rawx('v1', { cpu: 80, io: 40, space: 20 }), rawx('v2', { cpu: 80, io: 0, space: 90 }), rawx('v3', { cpu: 80, io: 50, space: 0 })]);
    assert.equal(get(backend, 'v1').score, Math.round(Math.cbrt(80 * 40 * 20)));
    assert.equal(get(backend, 'v1').scoreGet, Math.round(Math.sqrt(80 * 40)));
    assert.equal(get(backend, 'v2').score, Math.round(Math.cbrt(80 * 1 * 90)));
    assert.equal(get(backend, 'v3').score, 0);
  });

  it('keeps a full disk readable: put score 0, get score positive', () => {
    const { backend } = setup({ 'ns.score_variation_bound': 100 });
    backend.register([rawx('v1', { cpu: 90, io: 90, space: 1 })]);
    assert.equal(get(backend, 'v1').score, 0);
    assert.equal(get(backend, 'v1').scoreGet, 90);
  });

  it('scores 0 a service not refreshed within score_timeout, and keeps it listed', () => {
    const { backend, advance } = setup({ 'ns.score_variation_bound': 100 });
    backend.register([rawx('v1', full), rawx('v2', full)]);
    advance(20_000);
    backend.register([rawx('v2', full)]);
    advance(15_000);
    assert.equal(get(backend, 'v1').score, 0);
    assert.equal(get(backend, 'v1').scoreGet, 0);
    assert.equal(get(backend, 'v2').score, 100);
    assert.equal(backend.bulletin().services.length, 2);
  });

  it('ramps a service that comes back after a timeout up from 0', () => {
    const { backend, advance } = setup();
    for (let i = 0; i < 25; i++) backend.register([rawx('v1', full)]);
    advance(31_000);
    backend.register([rawx('v1', full)]);
    assert.equal(get(backend, 'v1').score, 5);
  });

  it('scores 0 a service with tag.up false', () => {
    const { backend } = setup({ 'ns.score_variation_bound': 100 });
    backend.register([rawx('v1', full, { tags: { 'tag.up': false, 'stat.cpu': 100, 'stat.io': 100, 'stat.space': 100 } })]);
    assert.equal(get(backend, 'v1').score, 0);
    assert.equal(get(backend, 'v1').scoreGet, 0);
  });

  it('locks a score to a value, ignoring new stats and timeouts, until unlocked', () => {
    const { backend, advance } = setup({ 'ns.score_variation_bound': 100 });
    backend.register([rawx('v1', full)]);
    backend.lock('rawx', 'v1', 42);
    backend.register([rawx('v1', { cpu: 1, io: 1, space: 100 })]);
    assert.equal(get(backend, 'v1').score, 42);
    assert.equal(get(backend, 'v1').locked, true);
    advance(60_000);
    assert.equal(get(backend, 'v1').score, 42);
    backend.unlock('rawx', 'v1');
    backend.register([rawx('v1', { cpu: 1, io: 1, space: 100 })]);
    assert.equal(get(backend, 'v1').locked, false);
    assert.equal(get(backend, 'v1').score, Math.round(Math.cbrt(100)));
  });

  it('locks a score to its current value when none is given', () => {
    const { backend } = setup();
    backend.register([rawx('v1', full)]);
    backend.register([rawx('v1', full)]);
    backend.lock('rawx', 'v1');
    for (let i = 0; i < 5; i++) backend.register([rawx('v1', full)]);
    assert.equal(get(backend, 'v1').score, 10);
  });

  it('restores persisted locks when the service registers again', () => {
    const a = setup();
    a.backend.register([rawx('v1', full)]);
    a.backend.lock('rawx', 'v1', 77);
    const b = setup();
    b.backend.restoreLocks(a.backend.locks());
    assert.equal(b.backend.list().length, 0);
    b.backend.register([rawx('v1', full)]);
    assert.equal(get(b.backend, 'v1').score, 77);
    assert.equal(get(b.backend, 'v1').locked, true);
  });

  it('refuses to lock an unknown service, or to an out-of-range score', () => {
    const { backend } = setup();
    assert.throws(() => backend.lock('rawx', 'nope'), (e: unknown) => e instanceof OioError && e.code === 'SERVICE_NOT_FOUND');
    backend.register([rawx('v1', full)]);
    assert.throws(() => backend.lock('rawx', 'v1', 101), (e: unknown) => e instanceof OioError && e.code === 'BAD_REQUEST');
  });

  it('deregisters services', () => {
    const { backend } = setup();
    backend.register([rawx('v1', full)]);
    backend.deregister('rawx', 'v1');
    assert.equal(backend.list().length, 0);
    assert.throws(() => backend.deregister('rawx', 'v1'), (e: unknown) => e instanceof OioError && e.code === 'SERVICE_NOT_FOUND');
  });

  it('fills id, loc and slots from the registration', () => {
    const { backend } = setup();
    backend.register([{ type: 'meta2', addr: '127.0.0.1:6120', tags: {} , slots: ['meta2-fast'] }]);
    const s = backend.list('meta2')[0]!;
    assert.equal(s.id, '127.0.0.1:6120');
    assert.equal(s.loc, '127-0-0-1.6120');
    assert.deepEqual(s.slots, ['meta2', 'meta2-fast']);
  });

  it('rejects malformed registrations without applying any', () => {
    const { backend } = setup();
    assert.throws(() => backend.register([rawx('v1', full), { type: 'rawx', addr: 'nope', tags: {} }]), /register\[1\]: addr/);
    assert.equal(backend.list().length, 0);
  });

  it('chooses services for a storage policy', () => {
    const { backend } = setup({ 'ns.score_variation_bound': 100 });
    backend.register([rawx('v1', full), rawx('v2', full), rawx('v3', full), rawx('v4', full, { tags: { 'tag.up': false } })]);
    const c = backend.choose({ policy: 'THREECOPIES' });
    assert.deepEqual(c.services.map((s) => s.id).sort(), ['v1', 'v2', 'v3']);
    assert.throws(() => backend.choose({ policy: 'THREECOPIES', avoid: ['v1'] }), (e: unknown) => e instanceof OioError && e.code === 'POLICY_NOT_SATISFIABLE');
  });

  it('uses the per-type expression with the "*" fallback', () => {
    const { backend } = setup({ 'ns.score_expr': { rawx: { put: 'stat.cpu / 2', get: 'stat.cpu' }, '*': { put: '7', get: '8' } }, 'ns.score_variation_bound': 100 });
    backend.register([rawx('v1', { cpu: 60, io: 0, space: 0 }), { type: 'meta1', addr: '127.0.0.1:6110', tags: {} }]);
    assert.equal(get(backend, 'v1').score, 30);
    assert.equal(backend.list('meta1')[0]!.score, 7);
    assert.equal(backend.list('meta1')[0]!.scoreGet, 8);
  });

  it('refuses a bad namespace config naming the key', () => {
    assert.throws(() => setup({ 'ns.score_expr': { rawx: { put: 'stat.cpu +', get: '1' } } }), /ns\.score_expr \(rawx\.put\).*position/);
    assert.throws(() => setup({ 'ns.pools': { p: { targets: [{ count: 0, slots: ['rawx'] }] } } }), /config ns\.pools: pool "p"/);
    assert.throws(() => setup({ 'ns.storage_policies': { X: 'NONE:NOPE' } }), /config ns\.storage_policies/);
    assert.throws(() => setup({ 'ns.storage_policy': 'NOPE' }), /config ns\.storage_policy/);
    assert.throws(() => setup({ 'ns.data_security': { A: 'raid/x=1' } }), /config ns\.data_security \(A\)/);
  });
});
