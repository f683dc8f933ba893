/** Unit tests of client/lb/auto-policy: parsing and picking dynamic storage policies by size. */
import assert from 'node:assert/strict';
import { checkAutoPolicies, parseAutoPolicies, pickAutoPolicy } from '../../../../../appliance/client/lb';

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
});
