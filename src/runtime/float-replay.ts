// One native call per stretch of float layers (issue 11): the float session's counterpart of the
// integer session's native-plan.ts. On the native backend, the second run of a plan and input shape
// records the kernel calls of every replayable step (OpImpl.replayable: conv, gemm, pools,
// elementwise, softmax) whose inputs live in memory that is the same on every run: constants, the
// plan's own copies of the feeds, and the outputs of steps recorded before it, which the recording
// allocates from an arena pool of their own (recycled by lifetime, as the session's pool is, but never
// handed to anything else afterwards). Later runs copy the feeds in, replay each stretch of recorded
// steps with one N-API call, and run only the other steps (shape arithmetic, data movement, ops
// without a float kernel) in TypeScript. The replay is the recorded calls with the same arguments,
// so its results are the steps' results bit for bit; outputs in arena memory are copied out.
// A TypeScript step's float output that recorded steps read (a Resize, a Concat, a Transpose in front
// of layers) is pinned: copied into an arena array that holds still, on every run, so that the layers
// after it record too (PP-OCRv4 det: its neck and head after the first Resize ran step by step).
// Tapped values (calibration's observed tensors) produced inside a stretch are handed over when it
// ends: the recording holds their arena arrays until then, and ends a stretch early once those hold
// more than TAP_HOLD_BYTES, so that a tapped run's memory stays bounded by that, not by the model.
// Their TapKernels run (and are recorded) right after the layer, while the value is in cache.
import type { NativePlanApi, NativePlanHandle } from '../backends/types.js';
import { OnnxPtqError } from '../errors.js';
import type { Node } from '../ir/graph.js';
import type { OpContext, OpImpl } from '../ops/types.js';
import { Tensor } from '../tensor.js';
import { ArrayPool, withArrayPool } from './array-pool.js';
import { RecordedPlan, type RecordedSegment } from './recorded-plan.js';
import { runNode } from './feeds.js';

export interface ReplayStep {
  node: Node;
  impl: OpImpl;
  ctx: OpContext;
  /** Values whose last reader is this step. */
  free: string[];
}

/** A recorded segment and the tapped values its steps produce, in order. */
interface Segment extends RecordedSegment {
  taps: string[];
}

/** What one run of a plan's steps is given, recorded or replayed. */
export interface ReplayRun {
  steps: readonly ReplayStep[];
  /** The plan's initializers. */
  consts: ReadonlyMap<string, Tensor>;
  feeds: ReadonlyMap<string, Tensor>;
  wanted: readonly string[];
  /** Serves the TypeScript steps, as in a plain run. */
  pool: ArrayPool;
  tap?: ReplayTap;
}

/** Values a run hands over as they are computed (InferenceSession.runTapped). */
export interface ReplayTap {
  names: ReadonlySet<string>;
  onValue: (name: string, value: Tensor) => void;
  kernels?: TapKernels;
}

/**
 * Kernel work on a tapped value that belongs with the layer that computes it (calibration's scans and
 * bias probes). `run(name, value)` is called right after the value is computed, before `onValue`
 * sees it; inside a recorded stretch its kernel calls are recorded with the layer's, and a replay
 * repeats them instead of calling `run` again. So `run` may only call the session's own backend's
 * kernels (another backend's calls are neither recorded nor refused), writing memory that outlives
 * the session's replays (its own buffers), decide what to call from the value's dtype and dims
 * alone, and leave everything else (reading results, JS loops) to `onValue`. `id` tells
 * one owner's buffers from another's: replays are kept per id.
 */
export interface TapKernels {
  readonly id: number;
  run(name: string, value: Tensor): void;
}

/** Hands a tapped value over: its kernels first, then the callback. */
export function handOver(tap: Pick<ReplayTap, 'onValue' | 'kernels'>, name: string, value: Tensor): void {
  tap.kernels?.run(name, value);
  tap.onValue(name, value);
}

/**
 * Bytes of tapped arrays a stretch may hold until it ends (see the header). Held arrays are not
 * recycled within the stretch, and the arena keeps what it grew to: with 32 MiB, quantizing
 * PP-OCRv4 rec peaked at 263 MB (218 MB without replay), with 4 MiB at 226 MB.
 */
const TAP_HOLD_BYTES = 4 << 20;

/** Where a TypeScript step's output that recorded steps read (a view of arena memory) must be again. */
interface ViewAt {
  buffer: ArrayBufferLike;
  byteOffset: number;
  length: number;
}

type Typed = Float32Array;

function bufferOf(t: Tensor | undefined): ArrayBufferLike | undefined {
  const d = t?.data;
  return d && ArrayBuffer.isView(d) ? d.buffer : undefined;
}

/** A copy of `t` in fresh memory (for outputs that live in the arena). */
function copyOut(t: Tensor): Tensor {
  return new Tensor(t.dtype, (t.data as Typed).slice(), t.dims);
}

export class FloatReplay extends RecordedPlan<Segment> {
  constructor(
    api: NativePlanApi,
    handle: NativePlanHandle,
    segments: readonly Segment[],
    /** The recorded feeds' types and dims. */
    private readonly signature: ReadonlyMap<string, { dtype: string; dims: readonly number[] }>,
    /** The plan's copies of the (typed-array) feeds, written at the start of every run. */
    private readonly copies: ReadonlyMap<string, Tensor>,
    /** The values recorded steps produce, as later TypeScript steps and the outputs read them. */
    private readonly produced: ReadonlyMap<string, Tensor>,
    /** TypeScript steps' outputs that recorded steps read: they must be the same views every run. */
    private readonly views: ReadonlyMap<string, ViewAt>,
    /** Memory the replay writes: outputs found there are copied out. */
    private readonly stable: ReadonlySet<ArrayBufferLike>,
    /** TypeScript steps' outputs that recorded steps read, and the arena arrays they are copied into. */
    private readonly pins: ReadonlyMap<string, Tensor>,
  ) {
    super(api, handle, segments);
  }

  /** Whether these feeds have the recorded names, types and dims. */
  matches(feeds: ReadonlyMap<string, Tensor>): boolean {
    if (feeds.size !== this.signature.size) return false;
    for (const [k, t] of feeds) {
      const c = this.signature.get(k);
      if (!c || c.dtype !== t.dtype || c.dims.length !== t.dims.length || c.dims.some((d, i) => d !== t.dims[i])) return false;
    }
    return true;
  }

  /**
   * One run. `stale` when a TypeScript step's output that recorded steps read is no longer what was
   * recorded (a view that moved, a pinned value of another size): the run then goes on step by
   * step from there, without the recording, so that nothing is computed or handed over twice, and
   * the caller drops this replay.
   */
  run({ steps, consts, feeds, wanted, pool, tap }: ReplayRun): { result: Record<string, Tensor>; stale: boolean } {
    this.checkLive();
    const values = new Map<string, Tensor>(consts);
    for (const [k, t] of feeds) {
      const c = this.copies.get(k);
      if (c) (c.data as Typed).set(t.data as Typed);
      values.set(k, c ?? t);
    }
    if (tap) for (const t of tap.names) if (values.has(t)) handOver(tap, t, values.get(t)!);
    for (const [k, t] of this.produced) values.set(k, t);
    const keep = new Set(wanted);
    const free = (s: ReplayStep) => {
      for (const f of s.free)
        if (!keep.has(f)) {
          pool.unref(values.get(f));
          values.delete(f);
        }
    };
    let stale = false;
    try {
      withArrayPool(pool, () => {
        for (let i = 0; i < steps.length; ) {
          const seg = stale ? undefined : this.at.get(i);
          if (seg) {
            this.replay(seg);
            // The replay ran their TapKernels.
            for (const t of seg.taps) tap!.onValue(t, values.get(t)!);
            for (; i < seg.end; i++) free(steps[i]!);
            continue;
          }
          const s = steps[i++]!;
          runNode(s.impl, s.ctx, s.node, values);
          for (const o of s.node.outputs) {
            if (!o) continue;
            let t = values.get(o)!;
            const pin = stale ? undefined : this.pins.get(o);
            if (pin) {
              if (samePlace(t, pin)) {
                (pin.data as Typed).set(t.data as Typed);
                pool.ref(t);
                pool.unref(t);
                values.set(o, pin);
                t = pin;
              } else stale = true;
            }
            pool.ref(t);
            const v = stale ? undefined : this.views.get(o);
            if (v) {
              const d = t.data;
              if (!ArrayBuffer.isView(d) || d.buffer !== v.buffer || d.byteOffset !== v.byteOffset || d.length !== v.length) stale = true;
            }
            if (tap?.names.has(o)) handOver(tap, o, t);
          }
          free(s);
        }
      });
      pool.settleAll(values, wanted);
    } finally {
      pool.endRun();
    }
    return { result: outputsOf(values, wanted, this.stable), stale };
  }
}

/** Whether `t` can be copied into pinned `pin`: same dtype and dims. */
function samePlace(t: Tensor, pin: Tensor): boolean {
  return t.data instanceof Float32Array && t.dims.length === pin.dims.length && t.dims.every((d, i) => d === pin.dims[i]);
}

/** An arena copy of a TypeScript step's float32 output (see the header); undefined for other dtypes and empty values (nothing to hold still). */
function pinned(arena: ArrayPool, t: Tensor | undefined): Tensor | undefined {
  if (!(t?.data instanceof Float32Array) || t.data.length === 0) return undefined;
  const n = t.data.length;
  const data = arena.take('float32', n, () => new Float32Array(n), false) as Float32Array;
  data.set(t.data);
  return new Tensor('float32', data, t.dims);
}

/**
 * Runs the steps once while recording (see the header) and returns the run's outputs with the
 * replay, which is undefined when no step could be recorded or a kernel that cannot be replayed
 * ran in a stretch.
 */
export function recordFloatRun(
  api: NativePlanApi,
  { steps, consts, feeds, wanted, pool, tap }: ReplayRun,
): { result: Record<string, Tensor>; replay?: FloatReplay } {
  // Every size pooled: a recorded call may point into any output, and only the arena's memory stays put.
  const arena = new ArrayPool(1, true);
  arena.adoptFree(pool);
  const values = new Map<string, Tensor>(consts);
  const signature = new Map([...feeds].map(([k, t]) => [k, { dtype: t.dtype, dims: t.dims }]));
  const copies = new Map<string, Tensor>();
  /** Memory recorded calls write (feed copies, recorded outputs): outputs found there are copied out. */
  const stable = new Set<ArrayBufferLike>();
  /** Values in memory that holds them on every run: recorded steps may read them. */
  const stableNames = new Set<string>();
  for (const [k, t] of feeds) {
    if (!ArrayBuffer.isView(t.data)) {
      values.set(k, t);
      continue;
    }
    const c = copyOut(t);
    copies.set(k, c);
    values.set(k, c);
    stable.add(bufferOf(c)!);
    stableNames.add(k);
  }
  const isStable = (name: string): boolean => consts.has(name) || stableNames.has(name);
  if (tap) for (const t of tap.names) if (values.has(t)) handOver(tap, t, values.get(t)!);
  const produced = new Map<string, Tensor>();
  const views = new Map<string, ViewAt>();
  const segments: Segment[] = [];
  const keep = new Set(wanted);
  // Values recorded steps could read: a TypeScript step's float output among them is pinned.
  const readByKernels = new Set<string>();
  for (const s of steps) if (s.impl.replayable) for (const x of s.node.inputs) if (x) readByKernels.add(x);
  const pins = new Map<string, Tensor>();
  const handle = api.create(true);
  let open = -1;
  // The open stretch's tapped values, and their arrays held until it ends. They are handed over
  // then, as a replay does, and not at once: the callback's own kernel calls (an observer's
  // histogram) must not run while the stretch records. Their TapKernels run at once, recorded.
  let segTaps: string[] = [];
  const openTaps = new Map<string, Tensor>();
  let held: Tensor[] = [];
  let heldBytes = 0;
  const close = (end: number) => {
    if (open < 0) return;
    const segment = api.end(handle);
    if (segment >= 0 && end > open) segments.push({ start: open, end, segment, taps: segTaps });
    open = -1;
    for (const [name, t] of openTaps) tap!.onValue(name, t);
    for (const t of held) arena.unref(t);
    openTaps.clear();
    segTaps = [];
    held = [];
    heldBytes = 0;
  };
  let result: Record<string, Tensor>;
  try {
    for (let i = 0; i < steps.length; i++) {
      const s = steps[i]!;
      const outs = s.node.outputs;
      if (!s.impl.replayable || !s.node.inputs.every((x) => !x || isStable(x))) {
        close(i);
        withArrayPool(pool, () => runNode(s.impl, s.ctx, s.node, values));
        // A view of an input that holds still (a Reshape of a recorded output): later recorded
        // steps may read it, and every replay checks that it is the same view again.
        const still = new Set(s.node.inputs.filter((x) => x && isStable(x)).map((x) => bufferOf(values.get(x))));
        for (const o of outs) {
          const d = o ? values.get(o)?.data : undefined;
          if (!o || !ArrayBuffer.isView(d) || !still.has(d.buffer)) continue;
          views.set(o, { buffer: d.buffer, byteOffset: d.byteOffset, length: (d as Typed).length });
          stableNames.add(o);
        }
        for (const o of outs) {
          if (!o || stableNames.has(o) || !readByKernels.has(o)) continue;
          const t = values.get(o);
          const pin = pinned(arena, t);
          if (!pin) continue;
          // The step's own array goes back to the session's pool, where the next run's step takes it.
          pool.ref(t);
          pool.unref(t);
          values.set(o, pin);
          pins.set(o, pin);
          stable.add(bufferOf(pin)!);
          stableNames.add(o);
        }
      } else {
        if (open < 0) {
          api.begin(handle);
          open = i;
        }
        const mark = api.count(handle);
        const zeroed = arena.zeroedTakes;
        withArrayPool(arena, () => runNode(s.impl, s.ctx, s.node, values));
        const ins = new Set(s.node.inputs.map((x) => (x ? bufferOf(values.get(x)) : undefined)));
        const bufs = outs.map((o) => (o ? bufferOf(values.get(o)) : undefined));
        const recorded =
          api.count(handle) > mark &&
          arena.zeroedTakes === zeroed &&
          outs.every((o, j) => !o || (arena.owns(values.get(o)) && !ins.has(bufs[j]) && bufs.indexOf(bufs[j]) === j));
        if (recorded) {
          outs.forEach((o, j) => {
            if (!o) return;
            stable.add(bufs[j]!);
            stableNames.add(o);
            produced.set(o, values.get(o)!);
          });
        } else {
          // A JS path (no kernel call), a zeroed array the op may rely on, an output not its own:
          // this step runs in TypeScript on every run, and its outputs are not stable (their arena
          // arrays are not where later runs put them).
          api.drop(handle, mark);
          close(i);
        }
      }
      for (const o of outs) {
        if (!o) continue;
        const t = values.get(o);
        arena.ref(t);
        pool.ref(t);
        if (!tap?.names.has(o)) continue;
        // Recorded: handed over when the stretch ends, its array held until then.
        if (open >= 0 && produced.get(o) === t) {
          tap.kernels?.run(o, t!);
          segTaps.push(o);
          openTaps.set(o, t!);
        } else handOver(tap, o, t!);
      }
      for (const f of s.free)
        if (!keep.has(f)) {
          const t = values.get(f);
          if (openTaps.has(f)) {
            held.push(t!);
            heldBytes += (t!.data as Typed).byteLength;
          } else arena.unref(t);
          pool.unref(t);
          values.delete(f);
        }
      if (heldBytes > TAP_HOLD_BYTES) close(i + 1);
    }
    close(steps.length);
    pool.settleAll(values, wanted);
    result = outputsOf(values, wanted, stable);
  } catch (e) {
    if (open >= 0) api.end(handle);
    api.free(handle);
    throw e;
  } finally {
    pool.endRun();
  }
  if (api.broken(handle) || segments.length === 0) {
    api.free(handle);
    return { result };
  }
  return { result, replay: new FloatReplay(api, handle, segments, signature, copies, produced, views, stable, pins) };
}

/** The wanted values, those in replayed memory copied out (the next run overwrites it). */
function outputsOf(
  values: ReadonlyMap<string, Tensor>,
  wanted: readonly string[],
  stable: ReadonlySet<ArrayBufferLike>,
): Record<string, Tensor> {
  const result: Record<string, Tensor> = {};
  for (const o of wanted) {
    const t = values.get(o);
    if (!t) throw new OnnxPtqError('INTERNAL', `output '${o}' was not computed`);
    const b = bufferOf(t);
    result[o] = b && stable.has(b) ? copyOut(t) : t;
  }
  return result;
}
