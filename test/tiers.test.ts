// The two test tiers stay in step: the README's test command is what .ci/run runs, and every model-tier
// file named in vitest.config.ts exists (a renamed file would otherwise silently move to no tier).
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MODEL_TIER } from '../vitest.config.js';

describe('test tiers', () => {
  it('the README test command and .ci/run run both tiers', () => {
    const readme = readFileSync('README.md', 'utf8');
    const block = /```sh\n([\s\S]*?)```/.exec(readme)![1];
    const line = block.split('\n').find((l) => l.startsWith('npm test'))!;
    const command = line.split('#')[0].trim();
    expect(command).toBe('npm test && npm run test:models');
    const ci = readFileSync('.ci/run', 'utf8')
      .split('\n')
      .map((l) => l.trim());
    for (const c of command.split('&&').map((s) => s.trim())) expect(ci).toContain(c);
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.test).toBe('vitest run --project unit');
    expect(pkg.scripts['test:models']).toBe('vitest run --project models');
  });

  it('every model-tier file exists', () => {
    for (const f of MODEL_TIER) expect(existsSync(f), f).toBe(true);
  });
});
