// The kernel suites' check of a refused call (a vitest helper: test/backends.ts stays free of vitest,
// since scripts outside the runner import it through test/integer-models.ts).
import { expect } from 'vitest';
import { OnnxPtqError } from '../src/errors.js';

/** `f` throws an OnnxPtqError with code KERNEL_ARGUMENT whose message matches `re` (a kernel's refusal). */
export function expectKernelArgument(f: () => void, re: RegExp): void {
  expect(f).toThrow(re);
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(OnnxPtqError);
    expect((e as OnnxPtqError).code).toBe('KERNEL_ARGUMENT');
  }
}
