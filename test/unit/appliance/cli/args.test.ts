import assert from 'node:assert/strict';
import { flagInt, flagProps, parseArgs } from '../../../../appliance/cli/args';
import { table } from '../../../../appliance/cli/output';

describe('cli/args', () => {
  it('separates positionals, valued flags and boolean flags', () => {
    const p = parseArgs(['c', 'file', '--name', 'n', '--force', '--policy=SINGLE'], { booleans: ['force'] });
    assert.deepEqual(p.positionals, ['c', 'file']);
    assert.equal(p.flags.name, 'n');
    assert.equal(p.flags.force, true);
    assert.equal(p.flags.policy, 'SINGLE');
  });
  it('collects repeatable flags as KEY=VALUE pairs', () => {
    const p = parseArgs(['--property', 'a=1', '--property', 'b=x=y'], { repeatable: ['property'] });
    assert.deepEqual(flagProps(p), { a: '1', b: 'x=y' });
  });
  it('refuses a valued flag without a value and a non-integer where one is needed', () => {
    assert.throws(() => parseArgs(['--name']), /--name needs a value/);
    assert.throws(() => flagInt(parseArgs(['--limit', 'ten']), 'limit'), /must be an integer/);
  });
  it('treats everything after -- as positionals', () => {
    assert.deepEqual(parseArgs(['--', '--not-a-flag']).positionals, ['--not-a-flag']);
  });
});

describe('cli/output', () => {
  it('draws an openio-style box table', () => {
    assert.equal(table(['Field', 'Value'], [['a', 1], ['long name', 'x']]),
      '+-----------+-------+\n| Field     | Value |\n+-----------+-------+\n| a         | 1     |\n| long name | x     |\n+-----------+-------+\n');
  });
});
