// A calibration worker thread: builds its own float session from the model's bytes, which come by
// message ('init': the thread may start before the calling thread has prepared the model; a session
// holds native plans that cannot be moved between threads), and observes the samples it is sent;
// on 'finish' it returns its observers' and probes' states for the main thread to merge.
import { parentPort, workerData } from 'node:worker_threads';
import { loadModel } from '../onnx/io.js';
import { getBackend } from '../backends/registry.js';
import { InferenceSession } from '../runtime/session.js';
import { errorToWire, feedsFromWire } from '../runtime/worker/protocol.js';
import {
  Collector,
  SAMPLE_SLOTS,
  type CalibrationWorkerInit,
  type CollectConfig,
  type FromCalibrationWorker,
  type ToCalibrationWorker,
} from './calibrate.js';

const port = parentPort!;
const post = (m: FromCalibrationWorker) => port.postMessage(m);
const start = workerData as CalibrationWorkerInit;
const slots = new Int32Array(start.slots);

// Tests only: this worker exits abruptly (as a crash would) when handed this sample index.
const exitAt = Number(process.env.ONNX_PTQ_TEST_CALIBRATION_WORKER_EXIT_AT ?? -1);

let collector: Collector | undefined;
let failed = false;

/** Builds this worker's session ('init'): from the calibration model, after the calling thread's passes and probes. */
async function init(model: Uint8Array, cfg: CollectConfig): Promise<void> {
  try {
    const session = await InferenceSession.create(loadModel(model), { allowNonFinite: cfg.allowNonFinite, runInWorker: false });
    collector = new Collector(session, cfg);
    // The pool size changed no float bits where measured (super-resolution-10 at 1, 2, 3 threads), and
    // the tests compare worker runs with one-thread runs byte for byte.
    const be = getBackend() as { setThreads?: (n: number) => void };
    be.setThreads?.(start.threads);
  } catch (e) {
    failed = true;
    post({ type: 'error', error: errorToWire(e) });
  }
}

function handle(m: ToCalibrationWorker): Promise<void> | undefined {
  // In turn, so never while 'init' loads the native addon: a thread stopped then would abort the
  // process (calibrate-workers.ts terminate()).
  if (m.type === 'stop') process.exit(0);
  if (m.type === 'init') return init(m.model, m.cfg);
  if (!collector || failed) return;
  try {
    if (m.type === 'warm') {
      // Ready once warmed up on the first sample (its plan built; nothing observed).
      if (m.feeds) {
        try {
          collector.warm(feedsFromWire(m.feeds));
        } catch {
          // The calling thread observes this sample itself and reports what is wrong with it.
        }
      }
      post({ type: 'ready' });
    } else if (m.type === 'sample') {
      // Taken back by the calling thread before this worker got to it (calibrate-workers.ts takeBack).
      if (Atomics.compareExchange(slots, m.seq % SAMPLE_SLOTS, 0, 1) !== 0) {
        post({ type: 'done', n: m.n, skipped: true });
        return;
      }
      if (m.n === exitAt) process.exit(7);
      collector.observe(feedsFromWire(m.feeds), m.n);
      post({ type: 'done', n: m.n });
    } else if (m.type === 'finish') post({ type: 'stats', stats: collector.state() });
  } catch (e) {
    failed = true;
    post({ type: 'error', error: errorToWire(e) });
  }
}

// One message at a time, in order: the samples that follow 'init' wait for its session.
let queue: Promise<void> = Promise.resolve();
port.on('message', (m: ToCalibrationWorker) => {
  queue = queue.then(() => handle(m));
});
