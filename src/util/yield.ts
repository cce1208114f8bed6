/**
 * Lets timers and I/O run during long synchronous stretches (analysis and mixed-precision loops run
 * many models over many samples): a host's event loop, a progress UI or a test runner's heartbeat
 * must not stall for minutes. A macrotask (setImmediate), since awaiting a resolved promise only
 * drains microtasks.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
