// The float InferenceSession's run() on a worker thread (issue 11): it yields to the event loop,
// gives the results of runSync (all outputs or the requested ones), and a session with a custom op
// registry (functions cannot cross threads) runs on the calling thread.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { InferenceSession } from '../src/runtime/session.js';
import { defaultOps } from '../src/ops/index.js';
import { convModel, randomInput } from './integer-models.js';

const m = convModel({ relu: true });
const x = randomInput([1, 3, 8, 8], 3);
const bytes = (t: { data: unknown }) => Buffer.from((t.data as Float32Array).buffer);

describe('InferenceSession.run() on a worker thread', () => {
  it('yields to the event loop before resolving, with the bits of runSync', async () => {
    const s = await InferenceSession.create(m);
    try {
      const order: string[] = [];
      setImmediate(() => order.push('event loop'));
      const y = await s.run({ x }).then((r) => (order.push('run'), r));
      expect(order).toEqual(['event loop', 'run']);
      const want = s.runSync({ x });
      expect(Object.keys(y)).toEqual(Object.keys(want));
      for (const k of Object.keys(want)) expect(bytes(y[k]!).equals(bytes(want[k]!))).toBe(true);
      // A requested intermediate comes back too, and an unknown name is refused before posting.
      const inner = s.graph.nodes[0]!.outputs[0]!;
      expect(Object.keys(await s.run({ x }, { outputs: [inner] }))).toEqual([inner]);
      await expect(s.run({ x }, { outputs: ['nope'] })).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        message: expect.stringMatching(/unknown output 'nope'/),
      });
    } finally {
      await s.release();
    }
    await expect(s.run({ x })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/InferenceSession was released/),
    });
  }, 60_000);

  it('runs on the calling thread with a custom registry; runInWorker: true with one is refused', async () => {
    const s = await InferenceSession.create(m, { registry: defaultOps });
    const order: string[] = [];
    setImmediate(() => order.push('event loop'));
    await s.run({ x }).then(() => order.push('run'));
    expect(order).toEqual(['run']);
    await expect(InferenceSession.create(m, { registry: defaultOps, runInWorker: true })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });
  it('starts its worker in a process run with V8 flags a worker refuses (--trace-gc, --max-old-space-size)', () => {
    // new Worker() threw ERR_WORKER_INVALID_EXEC_ARGV out of run() (a crash, not a rejection) when
    // the parent's options were passed on; the worker now starts without them.
    const script = `
      import { InferenceSession } from './src/runtime/session.ts';
      import { convModel, randomInput } from './test/integer-models.ts';
      const s = await InferenceSession.create(convModel({ relu: true }));
      const x = randomInput([1, 3, 8, 8], 3);
      const [a, b] = [await s.run({ x }), s.runSync({ x })];
      const k = Object.keys(b)[0];
      console.log(Buffer.from(a[k].data.buffer).equals(Buffer.from(b[k].data.buffer)) ? 'same bits' : 'differ');
      await s.release();`;
    const out = execFileSync(
      process.execPath,
      ['--trace-gc', '--max-old-space-size=512', '--import', 'tsx', '--input-type=module', '-e', script],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(out).toMatch(/same bits/);
  }, 90_000);
});
