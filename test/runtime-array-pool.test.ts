// The float session's recycled arrays: what a pool hands out again, best fit (a view of a longer
// free array, within the slack; never without bestFit), settling a run's outputs to arrays of their
// own length, and the float replay's arena taking over another pool's free arrays (adoptFree).
import { describe, expect, it } from 'vitest';
import { Tensor } from '../src/tensor.js';
import { ArrayPool } from '../src/runtime/array-pool.js';
import { makeNode } from '../src/ir/graph.js';
import { InferenceSession } from '../src/runtime/session.js';
import { model } from './integer-models.js';

const make = (n: number) => () => new Float32Array(n);

/** An array from `pool`, held by one value and then freed. */
function freed(pool: ArrayPool, n: number): Float32Array {
  const a = pool.take('float32', n, make(n))! as Float32Array;
  const t = new Tensor('float32', a, [n]);
  pool.ref(t);
  pool.unref(t);
  return a;
}

describe('ArrayPool', () => {
  it('hands a freed array out again, zeroed unless asked not to, and counts the zeroed takes', () => {
    const p = new ArrayPool();
    const a = freed(p, 300);
    a.fill(7);
    const b = p.take('float32', 300, make(300))! as Float32Array;
    expect(b).toBe(a);
    expect(b.every((v) => v === 0)).toBe(true);
    expect(p.zeroedTakes).toBe(2);
    const c = freed(p, 300);
    c.fill(7);
    expect(p.take('float32', 300, make(300), false)).toBe(c);
    expect(c[0]).toBe(7);
    expect(p.zeroedTakes).toBe(3);
  });

  it('leaves short arrays alone unless made with a lower minimum', () => {
    expect(new ArrayPool().take('float32', 10, make(10))).toBeUndefined();
    expect(new ArrayPool(1).take('float32', 10, make(10))).toBeInstanceOf(Float32Array);
  });

  it('adoptFree moves the free arrays: the adopter recycles them, the other pool never again', () => {
    const general = new ArrayPool();
    const a = freed(general, 400);
    const arena = new ArrayPool(1);
    arena.adoptFree(general);
    expect(general.owns(new Tensor('float32', a, [400]))).toBe(false);
    expect(arena.owns(new Tensor('float32', a, [400]))).toBe(true);
    expect(general.take('float32', 400, make(400))).not.toBe(a);
    expect(arena.take('float32', 400, make(400))).toBe(a);
  });

  it('best fit: a view of the shortest free array of 1x to 2x the length, zeroed; the array returns whole', () => {
    const p = new ArrayPool(undefined, true);
    const mid = freed(p, 600);
    const long = freed(p, 1000); // (freed first, it would have served the 600 as a view)
    mid.fill(5);
    const v = p.take('float32', 400, make(400))! as Float32Array;
    expect(v.length).toBe(400);
    expect(v.buffer).toBe(mid.buffer);
    expect(v.every((x) => x === 0)).toBe(true);
    expect(mid[500]).toBe(5); // past the view: untouched
    // Past 2x: a new array, not the 1000 one.
    const w = p.take('float32', 300, make(300))! as Float32Array;
    expect(w.buffer).not.toBe(long.buffer);
    expect(w.length).toBe(300);
    // Freed through the view, the whole array comes back under its own length.
    const t = new Tensor('float32', v, [400]);
    p.ref(t);
    p.unref(t);
    expect(p.take('float32', 600, make(600))).toBe(mid);
    // Other dtypes (bigint ones zeroed with 0n) and pools without bestFit.
    const q = new ArrayPool(undefined, true);
    const big = q.take('int64', 500, () => new BigInt64Array(500))! as BigInt64Array;
    big.fill(3n);
    const bt = new Tensor('int64', big, [500]);
    q.ref(bt);
    q.unref(bt);
    const b = q.take('int64', 300, () => new BigInt64Array(300))! as BigInt64Array;
    expect(b.buffer).toBe(big.buffer);
    expect(b.every((x) => x === 0n)).toBe(true);
    const exact = new ArrayPool();
    const e = freed(exact, 600);
    expect((exact.take('float32', 400, make(400)) as Float32Array).buffer).not.toBe(e.buffer);
  });

  it('settle: an output that is a view of a longer array comes out as a copy of its own length, the array freed', () => {
    const p = new ArrayPool(undefined, true);
    const a = freed(p, 800);
    const v = p.take('float32', 500, make(500))! as Float32Array;
    v.fill(2);
    const t = new Tensor('float32', v, [500]);
    p.ref(t);
    const s = p.settle(t);
    expect(s).not.toBe(t);
    expect(s.data.length).toBe(500);
    expect((s.data as Float32Array).buffer.byteLength).toBe(2000);
    expect([...(s.data as Float32Array)].every((x) => x === 2)).toBe(true);
    expect(p.take('float32', 800, make(800))).toBe(a);
    // An array of its own length, and one the pool did not make, are handed back as they are.
    const own = p.take('float32', 700, make(700))! as Float32Array;
    const o = new Tensor('float32', own, [700]);
    p.ref(o);
    expect(p.settle(o)).toBe(o);
    const feed = new Tensor('float32', new Float32Array(500), [500]);
    expect(p.settle(feed)).toBe(feed);
  });

  it("a float session's outputs are arrays of their own length on every run (plain, recording, replay)", async () => {
    // c = Relu(Slice(Relu(x))): c's array is taken after Relu(x)'s 1,000 floats are freed, and
    // best fit serves its 600 from them.
    const m = model(
      [makeNode('Relu', ['x'], ['a']), makeNode('Slice', ['a', 'starts', 'ends', 'axes'], ['b']), makeNode('Relu', ['b'], ['c'])],
      [
        ['starts', Tensor.int64([0])],
        ['ends', Tensor.int64([600])],
        ['axes', Tensor.int64([1])],
      ],
      [{ name: 'x', dims: [1, 1000] }],
      ['c'],
    );
    const s = await InferenceSession.create(m, { runInWorker: false });
    for (let run = 0; run < 4; run++) {
      const x = new Tensor(
        'float32',
        Float32Array.from({ length: 1000 }, (_, i) => ((i * 7 + run) % 13) - 6),
        [1, 1000],
      );
      const c = s.runSync({ x }).c!.data as Float32Array;
      expect(c.length, `run ${run}`).toBe(600);
      expect(c.buffer.byteLength, `run ${run}: a view of a longer array`).toBe(2400);
      expect([...c]).toEqual([...(x.data as Float32Array).subarray(0, 600)].map((v) => Math.max(0, v)));
    }
    await s.release();
  });
});
