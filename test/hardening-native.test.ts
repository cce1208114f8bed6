// Issue 17, the native boundary and the thread pool: hostile sizes with tiny buffers are refused
// before any workspace is sized (they aborted the process with std::bad_alloc across N-API, or
// allocated hundreds of MB first), and setThreads from one worker_threads worker while others run
// convolutions does not hang. Each runs in a child process so a regression fails instead of
// taking the test runner down or hanging it.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defaultAddonPath } from '../src/backends/paths.js';
import { loadedBackends } from './backends.js';
import { OnnxPtqError } from '../src/errors.js';

const native = loadedBackends.find((b) => b.name === 'native');
const script = (name: string) => fileURLToPath(new URL(`./hardening/${name}`, import.meta.url));

interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  error?: Error;
}

/**
 * Runs a hardening script in a child process, asynchronously: a synchronous wait would block the
 * vitest worker's event loop, and a block over 60 s on a loaded machine fails the run with a
 * worker RPC timeout. A child still running after 90 s is killed and reported as `error`.
 */
function child(name: string): Promise<ChildResult> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [script(name), defaultAddonPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '',
      stderr = '',
      error: Error | undefined;
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      error = new Error('timed out after 90 s');
      p.kill('SIGKILL');
    }, 90_000);
    p.on('error', (e) => (error = e));
    p.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal: error ? null : signal, stdout, stderr, ...(error ? { error } : {}) });
    });
  });
}

describe.runIf(native !== undefined && existsSync(defaultAddonPath))('native boundary', () => {
  it('refuses m = n = k = 65536 / 8000 and a huge conv kernel with tiny buffers: a JS Error, no abort, no allocation', async () => {
    const r = await child('native-hostile.mjs');
    expect(r.signal, String(r.stderr)).toBeNull();
    expect(r.status, String(r.stderr)).toBe(0);
    const out = JSON.parse(String(r.stdout)) as Record<string, { message: string | null; rssGrowthMB: number }>;
    expect(out.qgemm65536.message).toBe('qgemm: buffer A is smaller than (M-1)*lda + K');
    expect(out.gemmF32_65536.message).toBe('gemm_f32: buffer A is smaller than its rows * lda');
    expect(out.qgemm8000.message).toBe('qgemm: buffer A is smaller than (M-1)*lda + K');
    expect(out.conv2dF32.message).toBe('conv2d_f32: buffer x is smaller than n*c*h*w');
    // Before: 367 MB (qgemm 8000^3) and 706 MB (the conv) of workspace were allocated first.
    for (const [name, c] of Object.entries(out)) expect(c.rssGrowthMB, name).toBeLessThan(32);
  });

  it('the backend turns the refusal into OnnxPtqError KERNEL_ARGUMENT', () => {
    const d = 65536;
    let err: unknown;
    try {
      native!.gemmF32({ M: d, N: d, K: d, a: new Float32Array(1), b: new Float32Array(1), y: new Float32Array(1) });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OnnxPtqError);
    expect((err as OnnxPtqError).code).toBe('KERNEL_ARGUMENT');
  });

  it('setThreads from one worker while three others run convolutions: all finish with the same outputs', async () => {
    const r = await child('threads-workers.mjs');
    expect(r.error, 'timed out: the thread pool deadlocked').toBeUndefined();
    expect(r.status, String(r.stderr)).toBe(0);
    expect(String(r.stdout)).toMatch(/^ok \d+/);
  });
});
