/** Report output: JSON that stays valid with non-finite numbers; files go through the one atomic writer. */
export { writeFileAtomic } from '../util/atomic-write.js';

/** JSON with Infinity/NaN written as strings ("inf", "-inf", "nan") so that it stays valid JSON. */
export function toJson(v: unknown): string {
  return JSON.stringify(
    v,
    (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? (Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf') : x),
    2,
  );
}
