/** Unit tests of client/lb/score-expr: parsing, evaluation, errors. */
import assert from 'node:assert/strict';
import { evalScore, parseScoreExpr } from '../../../../../appliance/client/lb';
import { InvalidArgumentError } from '../../../../../appliance/common/errors';

const ev = (src: string, tags: Record<string, string | number | boolean> = {}) => parseScoreExpr(src).evaluate(tags);

describe('client/lb/score-expr', () => {
  it('evaluates arithmetic with the usual precedence', () => {
    assert.equal(ev('1 + 2 * 3'), 7);
    assert.equal(ev('(1 + 2) * 3'), 9);
    assert.equal(ev('10 - 4 - 3'), 3);
    assert.equal(ev('12 / 3 / 2'), 2);
    assert.equal(ev('-2 * -3'), 6);
    assert.equal(ev('2.5e1'), 25);
  });

  it('reads stat and tag identifiers, missing ones being 0', () => {
    const tags = { 'stat.cpu': 50, 'stat.io': '20', 'tag.up': true, 'tag.vol': '/srv/v1' };
    assert.equal(ev('stat.cpu + stat.io', tags), 70);
    assert.equal(ev('tag.up * 10', tags), 10);
    assert.equal(ev('stat.nothere + 1', tags), 1);
    assert.equal(ev('tag.vol', tags), 0);
  });

  it('gives 1 or 0 for comparisons and logic', () => {
    assert.equal(ev('stat.space >= 2', { 'stat.space': 2 }), 1);
    assert.equal(ev('stat.space >= 2', { 'stat.space': 1.9 }), 0);
    assert.equal(ev('1 < 2'), 1);
    assert.equal(ev('2 <= 1'), 0);
    assert.equal(ev('3 > 2 && 1 == 1'), 1);
    assert.equal(ev('3 > 2 && 1 != 1'), 0);
    assert.equal(ev('0 || 5'), 1);
    assert.equal(ev('!0'), 1);
  });

  it('computes the n-th root and the geometric mean', () => {
    assert.ok(Math.abs(ev('root(3, 27)') - 3) < 1e-9);
    const tags = { 'stat.cpu': 80, 'stat.io': 40, 'stat.space': 20 };
    assert.ok(Math.abs(ev('root(3, stat.cpu * stat.io * stat.space)', tags) - Math.cbrt(80 * 40 * 20)) < 1e-9);
    assert.equal(ev('root(3, stat.cpu * stat.io * stat.space)', { ...tags, 'stat.io': 0 }), 0);
  });

  it('implements clamp(x, lo, hi), min and max', () => {
    assert.equal(ev('clamp(150, 0, 100)'), 100);
    assert.equal(ev('clamp(-5, 0, 100)'), 0);
    assert.equal(ev('clamp(42, 0, 100)'), 42);
    assert.equal(ev('min(3, 1, 2)'), 1);
    assert.equal(ev('max(3, 1, 2)'), 3);
  });

  it('maps division by zero and bad roots to 0', () => {
    assert.equal(ev('5 / 0'), 0);
    assert.equal(ev('root(2, -4)'), 0);
    assert.equal(ev('root(0, 4)'), 0);
  });

  it('forces the default rawx put score to 0 on a nearly full disk', () => {
    const e = parseScoreExpr('(stat.space >= 2) * root(3, stat.cpu * stat.io * stat.space)');
    assert.equal(evalScore(e, { 'stat.cpu': 100, 'stat.io': 100, 'stat.space': 1 }), 0);
    assert.equal(evalScore(e, { 'stat.cpu': 100, 'stat.io': 100, 'stat.space': 100 }), 100);
  });

  it('clamps and rounds scores to 0..100', () => {
    assert.equal(evalScore(parseScoreExpr('stat.cpu * 2'), { 'stat.cpu': 90 }), 100);
    assert.equal(evalScore(parseScoreExpr('-stat.cpu'), { 'stat.cpu': 90 }), 0);
    assert.equal(evalScore(parseScoreExpr('stat.cpu / 3'), { 'stat.cpu': 50 }), 17);
  });

  it('accepts a lookup function as variables', () => {
    assert.equal(parseScoreExpr('stat.a + tag.b').evaluate((n) => (n === 'stat.a' ? 2 : 3)), 5);
  });

  it('lists the identifiers an expression reads', () => {
    assert.deepEqual([...parseScoreExpr('root(2, stat.cpu * stat.io) + stat.cpu').identifiers].sort(), ['stat.cpu', 'stat.io']);
  });

  const bad: Array<[string, RegExp]> = [
    ['1 +', /position 3/],
    ['(1 + 2', /expected "\)".*position 6/],
    ['stat.cpu $ 2', /unexpected character "\$" at position 9/],
    ['foo(1)', /unknown function "foo"/],
    ['cpu + 1', /unknown identifier "cpu"/],
    ['root(2)', /root\(\) takes 2/],
    ['clamp(1, 2)', /clamp\(\) takes 3/],
    ['1 2', /unexpected "2" at position 2/],
    ['', /empty/],
  ];
  for (const [src, re] of bad) {
    it(`rejects "${src}" with BAD_REQUEST naming the problem`, () => {
      assert.throws(() => parseScoreExpr(src), (e: unknown) => e instanceof InvalidArgumentError && e.code === 'BAD_REQUEST' && re.test(e.message));
    });
  }
});
