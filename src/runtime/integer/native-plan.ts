// One native call per run of steps (issue 11): on the native backend, the first run of an arena plan
// records the kernel calls of every pure step (lower/context.ts `Step.pure`) whose inputs and outputs
// live in memory that is the same on every run (the arena, constants); later runs replay each
// maximal segment of such steps with one N-API call, and run only the other steps (float fallbacks,
// graph-boundary conversions of the feeds and outputs, JS data movement) in TypeScript. The replay
// is the recorded calls with the same arguments, so its results are the steps' results bit for bit.
import type { NativePlanApi, NativePlanHandle } from '../../backends/types.js';
import { RecordedPlan, type RecordedSegment } from '../recorded-plan.js';
import type { Tensor } from '../../tensor.js';
import type { Step } from './lower/context.js';
import type { Plan, RunValues } from './plan.js';

export class NativeReplay extends RecordedPlan {
  constructor(
    api: NativePlanApi,
    handle: NativePlanHandle,
    segments: readonly RecordedSegment[],
    /** The values the segments' steps produced, as the steps outside them read them (arena views). */
    private readonly produced: ReadonlyMap<string, Tensor>,
  ) {
    super(api, handle, segments);
  }

  /** Runs `steps` over `values`: segments by replay, the rest as steps (`after(i)` after step i). */
  run(steps: readonly Step[], values: RunValues, after?: (i: number) => void): void {
    this.checkLive();
    for (const [k, t] of this.produced) values.set(k, t);
    for (let i = 0; i < steps.length; ) {
      const s = this.at.get(i);
      if (s) {
        this.replay(s);
        i = s.end;
      } else {
        steps[i]!.run(values);
        after?.(i++);
      }
    }
  }
}

/**
 * Runs `steps` once over `values` (arena views from `plan`) while recording; returns the replay, or
 * undefined when nothing could be recorded or a kernel that cannot be replayed ran in a segment.
 * `isConst(name)`: the value is a session constant (the same memory on every run).
 */
export function recordRun(
  api: NativePlanApi,
  plan: Plan,
  steps: readonly Step[],
  values: RunValues,
  isConst: (name: string) => boolean,
): NativeReplay | undefined {
  const stable = (name: string): boolean => {
    if (isConst(name)) return true;
    const d = values.get(name)?.data;
    return ArrayBuffer.isView(d) && plan.holds(d);
  };
  const handle = api.create();
  const segments: RecordedSegment[] = [];
  const produced = new Map<string, Tensor>();
  let open = -1;
  const close = (end: number) => {
    if (open < 0) return;
    const segment = api.end(handle);
    if (end > open) segments.push({ start: open, end, segment });
    open = -1;
  };
  try {
    for (let i = 0; i < steps.length; i++) {
      const s = steps[i]!;
      if (!s.pure || !s.inputs.every(stable)) {
        close(i);
        s.run(values);
        continue;
      }
      if (open < 0) {
        api.begin(handle);
        open = i;
      }
      const mark = api.count(handle);
      s.run(values);
      if (!s.outputs.every((o) => !o || stable(o))) {
        // A fresh output array (a fallback inside the step, a copying view): not replayable.
        api.drop(handle, mark);
        close(i);
        continue;
      }
      for (const o of s.outputs) if (o) produced.set(o, values.get(o)!);
    }
    close(steps.length);
  } catch (e) {
    if (open >= 0) api.end(handle);
    api.free(handle);
    throw e;
  }
  if (api.broken(handle) || segments.length === 0) {
    api.free(handle);
    return undefined;
  }
  return new NativeReplay(api, handle, segments, produced);
}
