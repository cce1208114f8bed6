/** Writing files atomically (temporary name, then rename): a failed run leaves no half-written file. */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { OnnxPtqError } from '../errors.js';

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new OnnxPtqError('IO_ERROR', `cannot write '${path}': ${(e as Error).message}`);
  }
}

/** JSON with Infinity/NaN written as strings ("inf", "-inf", "nan") so that it stays valid JSON. */
export function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? (Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf') : x), 2);
}
