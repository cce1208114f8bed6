// A native plan's recorded segments (native/napi/plan.cc), shared by the integer session's replay
// (integer/native-plan.ts) and the float session's (float-replay.ts): which steps each segment
// stands for, replaying one, and freeing the plan once.
import type { NativePlanApi, NativePlanHandle } from '../backends/types.js';
import { OnnxPtqError } from '../errors.js';

/** Steps [start, end) replayed by native segment `segment` (-1: steps that made no kernel call). */
export interface RecordedSegment {
  start: number;
  end: number;
  segment: number;
}

export abstract class RecordedPlan<S extends RecordedSegment = RecordedSegment> {
  /** Segments by their first step. */
  protected readonly at = new Map<number, S>();
  private released = false;

  constructor(
    private readonly api: NativePlanApi,
    private readonly handle: NativePlanHandle,
    readonly segments: readonly S[],
  ) {
    for (const s of segments) this.at.set(s.start, s);
  }

  /** Steps replayed natively (for reports and tests). */
  get replayedSteps(): number {
    return this.segments.reduce((n, s) => n + s.end - s.start, 0);
  }

  /** N-API calls a run makes for them. */
  get nativeCalls(): number {
    return this.segments.filter((s) => s.segment >= 0).length;
  }

  /** Throws when the plan was released (a run must not start). */
  protected checkLive(): void {
    if (this.released) throw new OnnxPtqError('INTERNAL', 'native plan used after release');
  }

  /** Replays segment `s`'s calls (one N-API call; none for a segment that recorded none). */
  protected replay(s: S): void {
    if (s.segment >= 0) this.api.run(this.handle, s.segment);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.api.free(this.handle);
  }
}
