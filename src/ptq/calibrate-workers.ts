/**
 * The worker threads of a parallel calibration (calibrate-worker.ts runs in each): started, then
 * given the model's bytes (load), warmed up on the first sample, handed samples while they are
 * ready and have room, and asked for their observers' and probes' states at the end. The calling thread calibrates too
 * (calibrate.ts runCalibration): a worker costs a module load and a model load, which the calling
 * thread fills with samples instead of waiting; when the data ends, it takes back the samples no
 * worker has started (takeBack) instead of waiting for them.
 */
import type { Worker } from 'node:worker_threads';
import { OnnxPtqError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { errorFromWire, toWire, type WireTensor } from '../runtime/worker/protocol.js';
import { startWorkerScript } from '../runtime/worker/start.js';
import {
  SAMPLE_SLOTS,
  type CalibrationWorkerInit,
  type CollectConfig,
  type Feeds,
  type FromCalibrationWorker,
  type ToCalibrationWorker,
  type WorkerStats,
} from './calibrate.js';

/** Samples in flight per worker: one running, one queued, so a worker never waits for the calling thread. */
const IN_FLIGHT = 2;

interface W {
  w: Worker;
  id: number;
  ready: boolean;
  inFlight: number;
  stats?: WorkerStats;
  /** CalibrationWorkerInit.slots, and the samples sent and not yet done, oldest first. */
  slots: Int32Array;
  sent: { n: number; seq: number; feeds: Feeds }[];
  seq: number;
}

export class CalibrationWorkers {
  private readonly ws: W[] = [];
  private failure: OnnxPtqError | undefined;
  private wake: (() => void) | undefined;
  /** terminate() ran: exits from here on are ours. */
  private stopped = false;

  /** Called per sample a worker finishes (load() sets it). */
  private onDone: () => void = () => {};

  /**
   * Starts `count` workers, each with `threads` kernel threads, to be given their model by load():
   * a worker loads its modules meanwhile (calibrate() starts them before it prepares the model).
   * `label(id)` names a worker in errors.
   */
  constructor(
    readonly count: number,
    readonly threads: number,
    private readonly label: (id: number) => string,
  ) {
    for (let id = 0; id < count; id++) {
      const slots = new SharedArrayBuffer(SAMPLE_SLOTS * 4);
      const init: CalibrationWorkerInit = { threads, slots };
      const w = startWorkerScript(import.meta.url, 'calibrate-worker', init);
      const rec: W = { w, id, ready: false, inFlight: 0, slots: new Int32Array(slots), sent: [], seq: 0 };
      this.ws.push(rec);
      w.on('message', (m: FromCalibrationWorker) => {
        if (m.type === 'ready') rec.ready = true;
        else if (m.type === 'done') {
          rec.inFlight--;
          const i = rec.sent.findIndex((s) => s.n === m.n);
          if (i >= 0) rec.sent.splice(i, 1);
          if (!m.skipped) this.onDone();
        } else if (m.type === 'stats') rec.stats = m.stats;
        else if (m.type === 'error') {
          const e = errorFromWire(m.error);
          this.fail(new OnnxPtqError(e.code, `${this.label(id)}: ${e.message}`));
        }
        this.poke();
      });
      w.on('error', (e) =>
        this.fail(new OnnxPtqError('WORKER_FAILED', `${this.label(id)} failed: ${e instanceof Error ? e.message : String(e)}`)),
      );
      w.on('exit', (code) => {
        if (!rec.stats && !this.stopped)
          this.fail(new OnnxPtqError('WORKER_FAILED', `${this.label(id)} exited (code ${code}) before it finished`));
        this.poke();
      });
    }
  }

  /** Hands every worker the model to calibrate and what to observe; `onDone` is called per sample a worker finishes. */
  load(bytes: Uint8Array, cfg: CollectConfig, onDone: () => void): void {
    this.onDone = onDone;
    for (const r of this.ws) r.w.postMessage({ type: 'init', model: bytes, cfg } satisfies ToCalibrationWorker);
  }

  /** Throws the first worker failure, if any. */
  check(): void {
    if (this.failure) throw this.failure;
  }

  /** A ready worker with room (the least loaded), or undefined. */
  free(): W | undefined {
    this.check();
    return this.ws.reduce<W | undefined>(
      (a, b) => (b.ready && b.inFlight < IN_FLIGHT && (!a || b.inFlight < a.inFlight) ? b : a),
      undefined,
    );
  }

  /** Waits for a ready worker with room. */
  async waitFree(): Promise<W> {
    for (;;) {
      const w = this.free();
      if (w) return w;
      await this.next();
    }
  }

  /**
   * Hands every worker the sample it warms up on (Collector.warm: not observed there, it is this
   * thread's) before it says it is ready. Workers start before the first sample is read, so that
   * their start-up overlaps this thread's; this comes with the first sample.
   */
  warm(feeds: Feeds): void {
    const wire = wireFeeds(feeds);
    for (const r of this.ws) r.w.postMessage({ type: 'warm', feeds: wire } satisfies ToCalibrationWorker);
  }

  /** Hands sample `n` to worker `target`. */
  send(target: W, feeds: Feeds, n: number): void {
    if (feeds === null || typeof feeds !== 'object')
      throw new OnnxPtqError('INVALID_DATA', `calibration: sample ${n} is not a feeds object ({ [inputName]: Tensor })`);
    const bad = Object.entries(feeds).find(([, t]) => !(t instanceof Tensor));
    if (bad) throw new OnnxPtqError('INVALID_DATA', `calibration: input '${bad[0]}' of sample ${n} is not a Tensor`);
    const wire = wireFeeds(feeds)!;
    const seq = target.seq++;
    Atomics.store(target.slots, seq % SAMPLE_SLOTS, 0);
    target.inFlight++;
    target.sent.push({ n, seq, feeds });
    target.w.postMessage({ type: 'sample', n, seq, feeds: wire } satisfies ToCalibrationWorker);
  }

  /**
   * The samples sent to workers that no worker has started, taken back for the calling thread to
   * observe (each worker then skips it: the slot's compare-and-exchange lets one thread have it).
   * A worker holds at most IN_FLIGHT samples, slots are SAMPLE_SLOTS > IN_FLIGHT apart, so a
   * slot still holds the state of the sample it was last given.
   */
  takeBack(): { n: number; feeds: Feeds }[] {
    this.check();
    const out: { n: number; feeds: Feeds }[] = [];
    for (const r of this.ws) for (const s of r.sent) if (Atomics.compareExchange(r.slots, s.seq % SAMPLE_SLOTS, 0, 2) === 0) out.push(s);
    return out;
  }

  /**
   * Waits for the state of every ready worker; the workers are then stopped (one still starting up
   * had no sample: a short run does not wait for it).
   */
  async finish(): Promise<WorkerStats[]> {
    const busy = this.ws.filter((r) => r.ready);
    for (const r of busy) r.w.postMessage({ type: 'finish' } satisfies ToCalibrationWorker);
    while (busy.some((r) => !r.stats)) {
      this.check();
      await this.next();
    }
    this.check();
    this.terminate();
    return busy.map((r) => r.stats!);
  }

  /**
   * Stops every worker. One still starting up is asked to exit once it has started instead:
   * terminating a thread while it loads the native addon (whose registration makes N-API calls)
   * aborts the whole process.
   */
  terminate(): void {
    this.stopped = true;
    for (const r of this.ws) {
      if (r.ready) void r.w.terminate();
      else r.w.postMessage({ type: 'stop' } satisfies ToCalibrationWorker);
    }
  }

  private fail(e: OnnxPtqError): void {
    this.failure ??= e;
    this.poke();
  }

  private poke(): void {
    const f = this.wake;
    this.wake = undefined;
    f?.();
  }

  private next(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
    });
  }
}

/** A sample for the wire, or undefined when it is not a feeds object of Tensors. */
function wireFeeds(feeds: Feeds): Record<string, WireTensor> | undefined {
  if (feeds === null || typeof feeds !== 'object') return undefined;
  const wire: Record<string, WireTensor> = {};
  for (const [k, t] of Object.entries(feeds)) {
    if (!(t instanceof Tensor)) return undefined;
    wire[k] = toWire(t);
  }
  return wire;
}
