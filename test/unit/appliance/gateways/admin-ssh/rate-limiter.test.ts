/** Unit tests of the per-address failed-login limit (time passed in, no clocks). */
import assert from 'node:assert/strict';
import { RateLimiter } from '../../../../../appliance/gateways/admin-ssh';

describe('admin-ssh rate limiter', () => {
  it('blocks an address after max failures within the window', () => {
    const rl = new RateLimiter(3, 60_000);
    assert.equal(rl.fail('10.0.0.1', 0), 1);
    assert.equal(rl.fail('10.0.0.1', 10), 2);
    assert.equal(rl.isBlocked('10.0.0.1', 20), false);
    assert.equal(rl.fail('10.0.0.1', 30), 3);
    assert.equal(rl.isBlocked('10.0.0.1', 40), true);
  });

  it('counts each address on its own', () => {
    const rl = new RateLimiter(2, 60_000);
    rl.fail('a', 0);
    rl.fail('a', 1);
    assert.equal(rl.isBlocked('a', 2), true);
    assert.equal(rl.isBlocked('b', 2), false);
  });

  it('unblocks when the failures leave the window', () => {
    const rl = new RateLimiter(2, 1000);
    rl.fail('a', 0);
    rl.fail('a', 500);
    assert.equal(rl.isBlocked('a', 999), true);
    assert.equal(rl.isBlocked('a', 1000), false); // the first left the window
    assert.equal(rl.isBlocked('a', 1500), false);
    assert.equal(rl.fail('a', 1600), 1);
  });
});
