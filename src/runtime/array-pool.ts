// Recycled output arrays for the float session: an intermediate freed after its last use goes back
// to a free list by dtype and length, and a later op's output of the same kind takes it (zeroed,
// unless the op writes every element). A pool made with `bestFit` also hands out a view of the
// shortest free array up to BEST_FIT_SLACK times longer when none has the exact length: PP-OCRv4
// det's first run made 101.8 MB of arrays for 32.7 MB of values live at once, each length its own
// list; the outputs of a run come out as arrays of their own length (settle()).
// Fresh memory is expensive on the machines this runs on (a first touch faulted at ~13 µs per 4 KiB
// page under the hypervisor here: 6 ms to write a fresh 1.8 MB output, 0.05 ms to reuse one), and
// steady-state runs of one input shape free and allocate the same sizes every time, like an arena.
// Only arrays the pool made are recycled, and only when no live value shares their buffer (a
// Reshape's output is a view of its input); feeds, initializers and outputs handed to the caller
// never are.
import { type DataType, Tensor, type TensorData } from '../tensor.js';

/** A best-fit pool serves n elements from a free array of up to this many times n. */
const BEST_FIT_SLACK = 2;

/** Arrays below this many elements are not worth tracking (a fresh typed array of a few KiB costs more than the pool's bookkeeping: mnist-8 0.12 -> 0.09 ms per run with 256 instead of 4096). */
const MIN_POOLED = 256;

export class ArrayPool {
  /** take()s that asked for a zeroed array (the float replay's recording checks that none did). */
  zeroedTakes = 0;
  private readonly free = new Map<string, TensorData[]>();
  /** Per dtype, the lengths that have a free list, ascending (best-fit pools). */
  private readonly lengths = new Map<string, number[]>();
  /** Arrays the pool made, by buffer (weak: a temporary an op drops is collected as usual). */
  private readonly made = new WeakMap<ArrayBufferLike, { data: TensorData; key: string }>();
  /** Live values per pooled buffer during a run. */
  private readonly refs = new Map<ArrayBufferLike, number>();

  /**
   * `minPooled`: arrays shorter than this are not pooled (the float replay's arena pools them all).
   * `bestFit`: serve a length from a longer free array (see the header).
   */
  constructor(
    private readonly minPooled = MIN_POOLED,
    private readonly bestFit = false,
  ) {}

  /**
   * An array from the free list (zeroed unless `zeroed` is false: the caller overwrites it all), or
   * a new one the pool will recycle; undefined when too small to pool.
   */
  take(dtype: DataType, n: number, make: () => TensorData, zeroed = true): TensorData | undefined {
    if (n < this.minPooled || dtype === 'string') return undefined;
    if (zeroed) this.zeroedTakes++;
    const reused = this.free.get(`${dtype}:${n}`)?.pop() ?? (this.bestFit ? this.longer(dtype, n) : undefined);
    if (reused) {
      if (zeroed) zero(reused);
      return reused;
    }
    const data = make();
    this.made.set((data as Float32Array).buffer, { data, key: `${dtype}:${n}` });
    return data;
  }

  /** A view of n elements of the shortest free array of `dtype` with n to BEST_FIT_SLACK * n elements. */
  private longer(dtype: DataType, n: number): TensorData | undefined {
    const ls = this.lengths.get(dtype);
    if (!ls) return undefined;
    let lo = 0;
    for (let hi = ls.length; lo < hi; ) {
      const mid = (lo + hi) >> 1;
      if (ls[mid]! < n) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < ls.length && ls[i]! <= BEST_FIT_SLACK * n; i++) {
      const data = this.free.get(`${dtype}:${ls[i]}`)?.pop();
      if (!data) continue;
      const a = data as Float32Array;
      return new (a.constructor as new (b: ArrayBufferLike, at: number, n: number) => Float32Array)(a.buffer, a.byteOffset, n);
    }
    return undefined;
  }

  /**
   * `t`, or when it is a view of a longer pooled array (best fit), a copy of its own length, the
   * array going back to the free list: what a run hands its caller (its outputs) holds no
   * more memory than it shows.
   */
  settle(t: Tensor): Tensor {
    const d = t.data as Float32Array;
    const m = ArrayBuffer.isView(d) ? this.made.get(d.buffer) : undefined;
    if (!m || (m.data as Float32Array).length === d.length) return t;
    const copy = new Tensor(t.dtype, d.slice(), t.dims);
    this.unref(t);
    return copy;
  }

  /** settle() on each of `names` in `values` (a run's outputs, before it ends). */
  settleAll(values: Map<string, Tensor>, names: readonly string[]): void {
    for (const o of names) {
      const t = values.get(o);
      if (t) values.set(o, this.settle(t));
    }
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
    this.listOf(m.key).push(m.data);
  }

  /** The free list of `key`, made (and its length indexed for best fit) on first use. */
  private listOf(key: string): TensorData[] {
    let list = this.free.get(key);
    if (!list) {
      this.free.set(key, (list = []));
      const at = key.lastIndexOf(':');
      const dtype = key.slice(0, at),
        n = Number(key.slice(at + 1));
      const ls = this.lengths.get(dtype) ?? this.lengths.set(dtype, []).get(dtype)!;
      let i = ls.length;
      while (i > 0 && ls[i - 1]! > n) i--;
      ls.splice(i, 0, n);
    }
    return list;
  }

  /**
   * Takes over `other`'s free arrays (recycled here from now on, never by `other`): the float
   * replay's arena starts from what the session's pool held, instead of doubling the memory.
   */
  adoptFree(other: ArrayPool): void {
    for (const [key, list] of other.free) {
      const mine = this.listOf(key);
      for (const data of list) {
        const b = (data as Float32Array).buffer;
        other.made.delete(b);
        this.made.set(b, { data, key });
        mine.push(data);
      }
    }
    other.free.clear();
    other.lengths.clear();
  }

  /** After a run: what is still referenced (the outputs) belongs to the caller now. */
  endRun(): void {
    for (const b of this.refs.keys()) this.made.delete(b);
    this.refs.clear();
  }

  clear(): void {
    this.free.clear();
    this.lengths.clear();
    this.refs.clear();
  }
}

function zero(d: TensorData): void {
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) d.fill(0n);
  else (d as Float32Array).fill(0);
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
