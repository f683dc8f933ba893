/**
 * @module client/lb/distance
 * Service locations and the distance between them (OpenIO `oio_location_t`): a location is a
 * dotted string of 1 to 4 words (room.rack.host.vol); the distance between two locations is
 * 4 minus the number of leading words they share (0 = same place, 4 = nothing in common).
 *
 * Short locations are right-aligned, as OpenIO does when it packs the words of a location into
 * the 16-bit groups of a 64-bit integer: the missing upper levels are the same for everyone.
 * So "host1.vol1" vs "host1.vol2" is 1, and "host1.vol1" vs "host2.vol1" is 2. Words past the
 * fourth are folded into the fourth.
 *
 * A service without a location gets one from its address: `ip.port` with the dots of the ip
 * replaced by "-" (e.g. "127.0.0.1:6200" -> "127-0-0-1.6200"), i.e. host.vol: two ports of one
 * host are at distance 1, two hosts at distance 2.
 */

/** Maximum number of words in a location. */
export const LOCATION_WORDS = 4;

/** The location derived from a "host:port" address (see the module header). */
export function locationFromAddr(addr: string): string {
  const a = addr.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  const i = a.lastIndexOf(':');
  const host = (i < 0 ? a : a.slice(0, i)).replace(/^\[|\]$/g, '').replace(/[.:]/g, '-');
  const port = i < 0 ? '' : a.slice(i + 1);
  return port ? `${host}.${port}` : host;
}

/** The location of a service: its `loc` if set, else derived from its address. */
export function locationOf(svc: { loc?: string | undefined; addr: string }): string {
  const loc = (svc.loc ?? '').trim();
  return loc !== '' ? loc : locationFromAddr(svc.addr);
}

/**
 * Splits a location into exactly 4 words, right-aligned (leading empty words for short
 * locations), the extra words folded into the last one.
 */
export function locationWords(loc: string): [string, string, string, string] {
  const words = loc.split('.').filter((w) => w !== '');
  if (words.length > LOCATION_WORDS) {
    words.splice(LOCATION_WORDS - 1, words.length, words.slice(LOCATION_WORDS - 1).join('.'));
  }
  while (words.length < LOCATION_WORDS) words.unshift('');
  return words as [string, string, string, string];
}

/** Distance between two pre-split locations (see `locationWords`). */
export function wordsDistance(a: readonly string[], b: readonly string[]): number {
  let common = 0;
  while (common < LOCATION_WORDS && a[common] === b[common]) common++;
  return LOCATION_WORDS - common;
}

/**
 * Distance between two dotted locations: 4 minus the number of leading words in common.
 * "room1.rack1.srv12.vol4" vs "room1.rack1.srv12.vol5" = 1; vs "room1.rack2.srv11.vol4" = 3.
 */
export function locationDistance(a: string, b: string): number {
  return wordsDistance(locationWords(a), locationWords(b));
}
