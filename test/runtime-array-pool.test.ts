// The float session's recycled arrays: what a pool hands out again, and the float replay's arena
// taking over another pool's free arrays (adoptFree).
import { describe, expect, it } from 'vitest';
import { Tensor } from '../src/tensor.js';
import { ArrayPool } from '../src/runtime/array-pool.js';

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
});
