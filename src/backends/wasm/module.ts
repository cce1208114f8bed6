/**
 * The standalone WebAssembly module (native/ kernels built by emscripten with SIMD128, no JS
 * glue) and the helpers every wasm kernel call uses: lay the operands out in one block of wasm
 * memory, copy in, call the C entry point (which validates every size), copy out, free.
 */
import { readFileSync } from 'node:fs';
import { OnnxPtqError } from '../../errors.js';
import type { KernelVariant } from '../types.js';
import { VARIANT_ID } from '../types.js';
import type { RequantParams } from '../../quant/requant.js';

export interface WasmExports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  malloc(n: number): number;
  free(p: number): void;
  opq_variant_name(v: number): number;
  opq_variant_available(v: number): number;
  opq_qgemm_auto_variant(): number;
  [fn: string]: unknown;
}

/** Offsets of operands inside one block, 16-byte aligned. */
export class Layout {
  private total = 0;
  add(bytes: number): number {
    const at = this.total;
    this.total += Math.ceil(bytes / 16) * 16 + 16;
    return at;
  }
  get size(): number {
    return this.total;
  }
}

export class WasmModule {
  readonly ex: WasmExports;
  private readonly decoder = new TextDecoder();

  constructor(path: string) {
    const module = new WebAssembly.Module(readFileSync(path));
    const instance = new WebAssembly.Instance(module, {
      env: { emscripten_notify_memory_growth: () => {} },
      // A standalone build may import WASI for abort paths; no kernel reaches them.
      wasi_snapshot_preview1: new Proxy(
        {},
        {
          get: () => () => {
            throw new Error('wasm: WASI call not supported');
          },
        },
      ),
    });
    this.ex = instance.exports as unknown as WasmExports;
    this.ex._initialize();
  }

  fn(name: string): (...args: number[]) => number {
    const f = this.ex[name];
    if (typeof f !== 'function') throw new Error(`wasm module does not export ${name}`);
    return f as (...args: number[]) => number;
  }

  cString(ptr: number): string {
    const bytes = new Uint8Array(this.ex.memory.buffer, ptr);
    const end = bytes.indexOf(0);
    return this.decoder.decode(bytes.subarray(0, end < 0 ? 0 : end));
  }

  variantId(v: KernelVariant | undefined): number {
    const id = VARIANT_ID[v ?? 'auto'];
    if (id === undefined) throw new OnnxPtqError('KERNEL_ARGUMENT', `wasm backend: unknown variant '${String(v)}'`);
    return id;
  }

  /** The largest block withBlock has allocated (what a run's scratch needs at most). */
  peakBlock = 0;

  /** Runs fn with a 16-byte-aligned block of `size` bytes, freed whatever happens. */
  withBlock<T>(size: number, fn: (base: number) => T): T {
    if (size > this.peakBlock) this.peakBlock = size;
    const raw = this.ex.malloc(size + 16);
    if (raw === 0) throw new OnnxPtqError('KERNEL_ARGUMENT', `wasm backend: out of memory allocating ${size} bytes`);
    try {
      return fn((raw + 15) & ~15);
    } finally {
      this.ex.free(raw);
    }
  }

  private readonly packedBlocks = new FinalizationRegistry<number>((raw) => this.ex.free(raw));

  /**
   * A 16-byte-aligned block of `size` bytes that lives as long as the returned handle (packed
   * weights): `write(ptr)` fills it (and throws on a refusal, which frees it); the block is freed
   * when the handle is garbage-collected.
   */
  packedBlock(size: number, write: (ptr: number) => void): { ptr: number; size: number } {
    const raw = this.ex.malloc(size + 16);
    if (raw === 0) throw new OnnxPtqError('KERNEL_ARGUMENT', `wasm backend: out of memory allocating ${size} bytes`);
    const ptr = (raw + 15) & ~15;
    try {
      write(ptr);
    } catch (e) {
      this.ex.free(raw);
      throw e;
    }
    const h = { ptr, size };
    this.packedBlocks.register(h, raw);
    return h;
  }

  /** The address of a view that already lies in wasm memory (a resident arena), else -1. */
  residentPtr(v: ArrayBufferView): number {
    return v.buffer === this.ex.memory.buffer ? v.byteOffset : -1;
  }

  /** `bytes` of wasm memory, 64-byte aligned, for a resident arena; freed by release(). */
  arena(bytes: number): { buffer(): ArrayBuffer; offset: number; beforeRun(): void; release(): void } {
    const raw = this.ex.malloc(bytes + 64);
    if (raw === 0) throw new OnnxPtqError('KERNEL_ARGUMENT', `wasm backend: out of memory allocating an arena of ${bytes} bytes`);
    const state = { live: true };
    const arena = {
      buffer: () => this.ex.memory.buffer as ArrayBuffer,
      offset: (raw + 63) & ~63,
      // Growing memory detaches every view on it, the arena's included. Reserving (malloc + free)
      // twice the largest scratch block seen so far moves the heap's top up now, between runs, so
      // that the run's own blocks fit below it.
      beforeRun: () => {
        const p = this.ex.malloc(2 * this.peakBlock + (1 << 16));
        if (p !== 0) this.ex.free(p);
      },
      release: () => {
        if (state.live) this.ex.free(raw);
        state.live = false;
        this.arenas.unregister(arena);
      },
    };
    // A plan dropped without release() (its session garbage-collected) still frees its arena.
    this.arenas.register(arena, { raw, state }, arena);
    return arena;
  }

  private readonly arenas = new FinalizationRegistry<{ raw: number; state: { live: boolean } }>((a) => {
    if (a.state.live) this.ex.free(a.raw);
  });

  /** Copies a typed array into wasm memory at `at` (views are made after any growth). */
  put(at: number, src: ArrayBufferView): void {
    new Uint8Array(this.ex.memory.buffer, at, src.byteLength).set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength));
  }

  /** Copies wasm memory at `at` back into a typed array. */
  get(at: number, dst: ArrayBufferView): void {
    new Uint8Array(dst.buffer, dst.byteOffset, dst.byteLength).set(new Uint8Array(this.ex.memory.buffer, at, dst.byteLength));
  }

  /** Room for an opq_requant and its three arrays. */
  static requantBytes(rq: RequantParams): number {
    return 32 + 3 * (Math.ceil((rq.shift.length * 4) / 16) * 16 + 16);
  }

  /** Writes an opq_requant (wasm32: mode, count, multiplier*, shift*, scale*, zero_point, min, max) and its arrays at `at`. */
  putRequant(at: number, rq: RequantParams): void {
    const stride = Math.ceil((rq.shift.length * 4) / 16) * 16 + 16;
    const mult = at + 32,
      shift = mult + stride,
      scale = shift + stride;
    this.put(mult, rq.multiplier);
    this.put(shift, rq.shift);
    this.put(scale, rq.scale);
    new Int32Array(this.ex.memory.buffer, at, 8).set([rq.mode, rq.shift.length, mult, shift, scale, rq.zeroPoint, rq.min, rq.max]);
  }

  /** Turns a non-null message pointer from the C ABI into an OnnxPtqError. */
  check(err: number): void {
    if (err !== 0) throw new OnnxPtqError('KERNEL_ARGUMENT', this.cString(err));
  }
}
