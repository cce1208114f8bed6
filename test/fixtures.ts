// One place that finds ../shared/fixtures. Under CI=true a missing fixture is a failure, not a skip.
import { existsSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const fixturesDir = resolve(process.env.ONNX_PTQ_FIXTURES ?? join(root, '..', 'shared', 'fixtures'));

/** Absolute path of a fixture; throws under CI when it is missing, returns undefined elsewhere. */
export function fixture(...parts: string[]): string | undefined {
  const p = join(fixturesDir, ...parts);
  if (existsSync(p)) return p;
  if (process.env.CI === 'true') throw new Error(`fixture missing under CI: ${p} (set ONNX_PTQ_FIXTURES)`);
  return undefined;
}

/** Like fixture(), but for tests that cannot run without it: throws when missing (tests use `it.skipIf(!has(...))`). */
export function has(...parts: string[]): boolean {
  return fixture(...parts) !== undefined;
}
