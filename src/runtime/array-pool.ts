// Recycled output arrays for the float session: an intermediate freed after its last use goes back
// to a free list by dtype and length, and a later op's output of the same kind takes it (zeroed,
// unless the op writes every element).
// Fresh memory is expensive on the machines this runs on (a first touch faulted at ~13 µs per 4 KiB
// page under the hypervisor here: 6 ms to write a fresh 1.8 MB output, 0.05 ms to reuse one), and
// steady-state runs of one input shape free and allocate the same sizes every time, like an arena.
// Only arrays the pool made are recycled, and only when no live value shares their buffer (a
// Reshape's output is a view of its input); feeds, initializers and outputs handed to the caller
// never are.
import type { DataType, Tensor, TensorData } from '../tensor.js';

/** Arrays below this many elements are not worth tracking (a fresh typed array of a few KiB costs more than the pool's bookkeeping: mnist-8 0.12 -> 0.09 ms per run with 256 instead of 4096). */
const MIN_POOLED = 256;

export class ArrayPool {
  /** take()s that asked for a zeroed array (the float replay's recording checks that none did). */
  zeroedTakes = 0;
  private readonly free = new Map<string, TensorData[]>();
  /** Arrays the pool made, by buffer (weak: a temporary an op drops is collected as usual). */
  private readonly made = new WeakMap<ArrayBufferLike, { data: TensorData; key: string }>();
  /** Live values per pooled buffer during a run. */
  private readonly refs = new Map<ArrayBufferLike, number>();

  /** `minPooled`: arrays shorter than this are not pooled (the float replay's arena pools them all). */
  constructor(private readonly minPooled = MIN_POOLED) {}

  /**
   * An array from the free list (zeroed unless `zeroed` is false: the caller overwrites it all), or
   * a new one the pool will recycle; undefined when too small to pool.
   */
  take(dtype: DataType, n: number, make: () => TensorData, zeroed = true): TensorData | undefined {
    if (n < this.minPooled || dtype === 'string') return undefined;
    if (zeroed) this.zeroedTakes++;
    const key = `${dtype}:${n}`;
    const reused = this.free.get(key)?.pop();
    if (reused) {
      if (zeroed) (reused as Float32Array).fill(0);
      return reused;
    }
    const data = make();
    this.made.set((data as Float32Array).buffer, { data, key });
    return data;
  }

  /** Whether the pool made the array behind `t` (and still recycles it). */
  owns(t: Tensor | undefined): boolean {
    const b = bufferOf(t);
    return b !== undefined && this.made.has(b);
  }

  /** A value now holds `t`'s data. */
  ref(t: Tensor | undefined): void {
    const b = bufferOf(t);
    if (b && this.made.has(b)) this.refs.set(b, (this.refs.get(b) ?? 0) + 1);
  }

  /** A value that held `t`'s data is gone: the last one returns the array to the free list. */
  unref(t: Tensor | undefined): void {
    const b = bufferOf(t);
    const c = b ? this.refs.get(b) : undefined;
    if (c === undefined) return;
    if (c > 1) {
      this.refs.set(b!, c - 1);
      return;
    }
    this.refs.delete(b!);
    const m = this.made.get(b!)!;
    const list = this.free.get(m.key) ?? this.free.set(m.key, []).get(m.key)!;
    list.push(m.data);
  }

  /**
   * Takes over `other`'s free arrays (recycled here from now on, never by `other`): the float
   * replay's arena starts from what the session's pool held, instead of doubling the memory.
   */
  adoptFree(other: ArrayPool): void {
    for (const [key, list] of other.free) {
      const mine = this.free.get(key) ?? this.free.set(key, []).get(key)!;
      for (const data of list) {
        const b = (data as Float32Array).buffer;
        other.made.delete(b);
        this.made.set(b, { data, key });
        mine.push(data);
      }
    }
    other.free.clear();
  }

  /** After a run: what is still referenced (the outputs) belongs to the caller now. */
  endRun(): void {
    for (const b of this.refs.keys()) this.made.delete(b);
    this.refs.clear();
  }

  clear(): void {
    this.free.clear();
    this.refs.clear();
  }
}

function bufferOf(t: Tensor | undefined): ArrayBufferLike | undefined {
  const d = t?.data;
  return d && !Array.isArray(d) ? (d as Float32Array).buffer : undefined;
}

let active: ArrayPool | undefined;

/** Runs `f` with `pool` serving allocData (src/tensor.ts). */
export function withArrayPool<T>(pool: ArrayPool, f: () => T): T {
  const prev = active;
  active = pool;
  try {
    return f();
  } finally {
    active = prev;
  }
}

/** The pool serving allocations now, if any. */
export function activeArrayPool(): ArrayPool | undefined {
  return active;
}
