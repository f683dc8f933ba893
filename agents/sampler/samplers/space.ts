/**
 * @module agents/sampler/samplers/space
 * Free space % of a volume: blocks available to unprivileged users over total blocks
 * (statfs bavail / blocks), the same ratio as df's Avail / Size.
 */
import fs from 'node:fs/promises';

/** Free space % (0..100) of the filesystem holding `p`; throws the fs error if `p` is missing. */
export async function spaceFreePercent(p: string): Promise<number> {
  const s = await fs.statfs(p);
  if (s.blocks <= 0) return 100;
  return Math.min(100, Math.max(0, (s.bavail / s.blocks) * 100));
}
