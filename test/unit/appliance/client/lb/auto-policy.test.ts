/** Unit tests of client/lb/auto-policy: parsing and picking dynamic storage policies by size. */
import assert from 'node:assert/strict';
import { checkAutoPolicies, parseAutoPolicies, pickAutoPolicy, policyPoolRequest } from '../../../../../appliance/client/lb';
import { loadConfig } from '../../../../../appliance/common/config';
import { buildNamespaceInfo } from '../../../../../appliance/services/conscience';

describe('client/lb/auto-policy', () => {
  const auto = parseAutoPolicies('EC63,THREECOPIES:0,EC63:256KiB,EC144:1GiB')!;

  it('uses the default for an unknown size (streamed upload)', () => {
    assert.equal(pickAutoPolicy(auto, undefined), 'EC63');
  });

  it('picks the rule with the largest threshold not above the size', () => {
    assert.equal(pickAutoPolicy(auto, 0), 'THREECOPIES');
    assert.equal(pickAutoPolicy(auto, 256 * 1024 - 1), 'THREECOPIES');
    assert.equal(pickAutoPolicy(auto, 256 * 1024), 'EC63');
    assert.equal(pickAutoPolicy(auto, 2 ** 30), 'EC144');
  });

  it('uses the default below every threshold', () => {
    const a = parseAutoPolicies('TWOCOPIES,EC42:1MiB')!;
    assert.equal(pickAutoPolicy(a, 10), 'TWOCOPIES');
    assert.equal(pickAutoPolicy(a, 1 << 20), 'EC42');
  });

  it('is off for an empty string and refuses rules without a default or with bad sizes', () => {
    assert.equal(parseAutoPolicies(''), undefined);
    assert.throws(() => parseAutoPolicies('EC63:10'), /default/);
    assert.throws(() => parseAutoPolicies('A,B'), /two defaults/);
    assert.throws(() => parseAutoPolicies('A,B:lots'), /size/);
  });

  it('checks that every named policy exists', () => {
    assert.throws(() => checkAutoPolicies('SINGLE,NOPE:10', { storagePolicies: { SINGLE: 'NONE:NONE' } }), /NOPE/);
    assert.ok(checkAutoPolicies('SINGLE', { storagePolicies: { SINGLE: 'NONE:NONE' } }));
  });

  it('is served by the conscience with the built-in EC policies, and checked at start', () => {
    const info = buildNamespaceInfo(loadConfig({ overrides: { 'ns.auto_storage_policies': 'EC63,THREECOPIES:0,EC63:256KiB', 'ns.ec_quorum_extra': 2 } }));
    assert.equal(info.autoStoragePolicies, 'EC63,THREECOPIES:0,EC63:256KiB');
    assert.equal(info.ecQuorumExtra, 2);
    for (const [name, count] of [['EC42', 6], ['EC63', 9], ['EC123', 15], ['EC144', 18]] as const) {
      const req = policyPoolRequest(name, info);
      assert.equal(req.targets.reduce((n, t) => n + t.count, 0), count, `${name} places k+m fragments`);
      assert.equal(req.minDist, 1, `${name}: volumes of one host (distance 1) qualify`);
    }
    assert.throws(() => buildNamespaceInfo(loadConfig({ overrides: { 'ns.auto_storage_policies': 'EC63,NOPE:1MiB' } })), /ns\.auto_storage_policies.*NOPE/);
  });
});
