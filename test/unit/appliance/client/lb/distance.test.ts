/** Unit tests of client/lb/distance: location words and distances. */
import assert from 'node:assert/strict';
import { locationDistance, locationFromAddr, locationOf, locationWords } from '../../../../../appliance/client/lb';

describe('client/lb/distance', () => {
  it('gives 1 between two volumes of one server', () => {
    assert.equal(locationDistance('room1.rack1.srv12.vol4', 'room1.rack1.srv12.vol5'), 1);
  });

  it('gives 3 between two racks of one room', () => {
    assert.equal(locationDistance('room1.rack1.srv12.vol4', 'room1.rack2.srv11.vol4'), 3);
  });

  it('gives 0 for identical locations and 4 for different rooms', () => {
    assert.equal(locationDistance('room1.rack1.srv12.vol4', 'room1.rack1.srv12.vol4'), 0);
    assert.equal(locationDistance('room1.rack1.srv12.vol4', 'room2.rack1.srv12.vol4'), 4);
  });

  it('gives 2 between two servers of one rack', () => {
    assert.equal(locationDistance('r.k.s1.v1', 'r.k.s2.v1'), 2);
  });

  it('right-aligns short locations', () => {
    assert.deepEqual(locationWords('host1.vol1'), ['', '', 'host1', 'vol1']);
    assert.equal(locationDistance('host1.vol1', 'host1.vol2'), 1);
    assert.equal(locationDistance('host1.vol1', 'host2.vol1'), 2);
  });

  it('folds words past the fourth into the last one', () => {
    assert.deepEqual(locationWords('a.b.c.d.e'), ['a', 'b', 'c', 'd.e']);
    assert.equal(locationDistance('a.b.c.d.e', 'a.b.c.d.f'), 1);
  });

  it('derives a host.port location from the address when none is set', () => {
    assert.equal(locationFromAddr('127.0.0.1:6200'), '127-0-0-1.6200');
    assert.equal(locationOf({ loc: '', addr: '10.0.0.2:6201' }), '10-0-0-2.6201');
    assert.equal(locationOf({ loc: 'r.k.h.v', addr: '10.0.0.2:6201' }), 'r.k.h.v');
    assert.equal(locationDistance(locationFromAddr('127.0.0.1:6200'), locationFromAddr('127.0.0.1:6201')), 1);
    assert.equal(locationDistance(locationFromAddr('127.0.0.1:6200'), locationFromAddr('127.0.0.2:6200')), 2);
  });
});
