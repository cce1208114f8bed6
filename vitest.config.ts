import { defineConfig } from 'vitest/config';

/**
 * Two tiers (projects), both run by `.ci/run` and named in the README:
 * - `unit` (`npm test`): kernels, IR, passes on small graphs, CLI conventions, mnist-8-sized models;
 *   under 5 minutes on a 2-core machine.
 * - `models` (`npm run test:models`): the suites that quantize, analyze or run real models end to end
 *   (PaddleOCR, MobileNet-style, super-resolution, the demo, mnist-8 over many settings); minutes each.
 * A file goes to `models` when it takes more than ~20 s alone on a loaded 2-core machine.
 */
export const MODEL_TIER = [
  'test/analysis-paddleocr.test.ts',
  'test/passes-paddleocr.test.ts',
  'test/session-models.test.ts',
  'test/passes-equalization-mobilenet.test.ts',
  'test/demo-run.test.ts',
  'test/integer-mnist.test.ts',
  'test/integer-plan.test.ts',
  'test/ptq-observers-mnist.test.ts',
  'test/passes-single-shift.test.ts',
  'test/data-synthetic-text.test.ts',
  'test/ptq-integer-mnist.test.ts',
  'test/analysis-mnist.test.ts',
  'test/integer-models-float-free.test.ts',
  'test/integer-a16w8-models.test.ts',
  'test/integer-det-a16w8.test.ts',
];

export default defineConfig({
  test: {
    pool: 'forks',
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
          exclude: ['**/node_modules/**', ...MODEL_TIER],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'models',
          include: MODEL_TIER,
          // Explicit per-test timeouts in these files still apply; this covers the rest.
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
