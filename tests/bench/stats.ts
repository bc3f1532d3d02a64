/** Small statistics the benchmarks share. */

/** The median of a non-empty list. */
export function median(values: number[]): number {
  if (values.length === 0) throw new RangeError("Take the median of an empty list");
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
