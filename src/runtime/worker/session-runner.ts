// The main-thread side of an asynchronous session: one worker thread per session, started on the
// first run(), holding its own copy of the session. Runs execute in call order, so concurrent run()
// calls give the same bits as sequential ones; the event loop only posts feeds and receives outputs.
// At most MAX_IN_FLIGHT runs are posted at a time and the rest wait here: posting clones the feeds,
// and 20 super-resolution runs posted in one tick held the event loop 13 ms. A queued run's feeds
// are read when it is posted (as onnxruntime reads its inputs when the run starts, not at the call).
// A worker that dies rejects every pending run with its error.
import type { Worker } from 'node:worker_threads';
import { OnnxPtqError } from '../../errors.js';
import type { Tensor } from '../../tensor.js';
import { startWorkerScript } from './start.js';
import { errorFromWire, fromWire, toWire, type FromWorker, type ToWorker, type WireTensor, type WorkerInit } from './protocol.js';

interface Pending {
  resolve(outputs: Record<string, Tensor>): void;
  reject(e: unknown): void;
  /** The session: held until its run settles, so that it is not finalized (and this runner released) mid-run. */
  owner: object;
}

/** Releases the runner of a session that was garbage-collected without release(). */
export const runnerFinalizer = new FinalizationRegistry<SessionRunner>((r) => void r.release());

/** Starts this session's worker (session-worker.ts beside this module, or its bundle: start.ts). */
function startWorker(init: WorkerInit): Worker {
  return startWorkerScript(import.meta.url, 'session-worker', init);
}

/** Runs posted to the worker at once: one running and one ready to start, so it never waits. */
const MAX_IN_FLIGHT = 2;

export class SessionRunner {
  private worker: Worker | undefined;
  /** Runs waiting to be posted, in call order. */
  private readonly queued: { id: number; feeds: ReadonlyMap<string, Tensor>; outputs?: string[] }[] = [];
  private inFlight = 0;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private released = false;
  private registered = false;
  /** Fails the start in progress (release() while the worker is still loading). */
  private abortStart: ((e: unknown) => void) | undefined;

  /** `source` is read lazily: the model bytes are only serialized when the first run() needs them. */
  constructor(
    private readonly label: string,
    private readonly source: () => WorkerInit,
  ) {}

  run(owner: object, feeds: ReadonlyMap<string, Tensor>, outputs?: string[]): Promise<Record<string, Tensor>> {
    if (this.released)
      return Promise.reject(new OnnxPtqError('INVALID_ARGUMENT', `${this.label} was released; create a new session to run`));
    // Registered at the first run, when there is a worker to stop: a session that never calls run()
    // (create, runSync, drop) costs the finalizer nothing.
    if (!this.registered) {
      runnerFinalizer.register(owner, this, owner);
      this.registered = true;
    }
    return this.start().then(
      () =>
        new Promise<Record<string, Tensor>>((resolve, reject) => {
          const w = this.worker;
          if (!w || this.released) {
            reject(new OnnxPtqError('INVALID_ARGUMENT', `${this.label} was released while a run was pending`));
            return;
          }
          const id = this.nextId++;
          this.pending.set(id, { resolve, reject, owner });
          w.ref();
          this.queued.push({ id, feeds, ...(outputs ? { outputs: [...outputs] } : {}) });
          this.pump();
        }),
    );
  }

  /** Posts queued runs while fewer than MAX_IN_FLIGHT are in the worker. */
  private pump(): void {
    const w = this.worker;
    while (w && this.inFlight < MAX_IN_FLIGHT && this.queued.length) {
      const q = this.queued.shift()!;
      if (!this.pending.has(q.id)) continue; // rejected meanwhile
      const wire: Record<string, WireTensor> = {};
      for (const [k, t] of q.feeds) wire[k] = toWire(t);
      this.inFlight++;
      w.postMessage({ type: 'run', id: q.id, feeds: wire, ...(q.outputs ? { outputs: q.outputs } : {}) } satisfies ToWorker);
    }
  }

  /** Stops the worker; pending runs are rejected. */
  async release(): Promise<void> {
    this.released = true;
    const w = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    const e = new OnnxPtqError('INVALID_ARGUMENT', `${this.label} was released while a run was pending`);
    this.abortStart?.(e);
    this.failAll(e);
    if (w) await w.terminate();
  }

  private start(): Promise<void> {
    if (this.ready) return this.ready;
    let init: WorkerInit;
    try {
      init = this.source();
    } catch (e) {
      return Promise.reject(e);
    }
    let w: Worker;
    try {
      w = startWorker(init);
    } catch (e) {
      return Promise.reject(
        new OnnxPtqError(
          'INTERNAL',
          `${this.label}: the session's worker thread did not start: ${e instanceof Error ? e.message : String(e)}`,
        ),
      );
    }
    this.worker = w;
    this.ready = new Promise<void>((resolve, reject) => {
      let up = false;
      this.abortStart = reject;
      w.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          up = true;
          this.abortStart = undefined;
          if (this.pending.size === 0) w.unref();
          resolve();
        } else if (m.type === 'init-error') {
          reject(errorFromWire(m.error));
          this.drop(w);
        } else {
          const p = this.pending.get(m.id);
          if (!p) return;
          this.pending.delete(m.id);
          this.inFlight--;
          this.pump();
          if (this.pending.size === 0) w.unref();
          if (m.type === 'result') p.resolve(Object.fromEntries(Object.entries(m.outputs).map(([k, t]) => [k, fromWire(t)])));
          else p.reject(errorFromWire(m.error));
        }
      });
      const died = (why: string) => {
        const e = new OnnxPtqError('INTERNAL', `${this.label}: the session's worker thread ${why}`);
        if (!up) reject(e);
        this.failAll(e);
        this.drop(w);
      };
      w.on('error', (e) => died(`failed: ${e instanceof Error ? e.message : String(e)}`));
      w.on('exit', (code) => {
        if (this.worker === w) died(`exited with code ${code}`);
      });
    });
    return this.ready;
  }

  /** Forgets a dead worker so that the next run starts a new one. */
  private drop(w: Worker): void {
    if (this.worker !== w) return;
    this.worker = undefined;
    this.ready = undefined;
    this.inFlight = 0;
    void w.terminate();
  }

  private failAll(e: unknown): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    this.queued.length = 0;
    for (const p of all) p.reject(e);
  }
}
