/** The median of measurements (the upper middle one of an even count). */
export function median(xs: number[]): number {
  if (xs.length === 0) throw new Error('median of nothing');
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}
