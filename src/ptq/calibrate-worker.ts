// A calibration worker thread: builds its own float session from the model's bytes (a session
// holds native plans that cannot be moved between threads) and observes the samples it is sent;
// on 'finish' it returns its observers' and probes' states for the main thread to merge.
import { parentPort, workerData } from 'node:worker_threads';
import { loadModel } from '../onnx/io.js';
import { getBackend } from '../backends/registry.js';
import { InferenceSession } from '../runtime/session.js';
import { errorToWire, feedsFromWire } from '../runtime/worker/protocol.js';
import { Collector, SAMPLE_SLOTS, type CalibrationWorkerInit, type FromCalibrationWorker, type ToCalibrationWorker } from './calibrate.js';

const port = parentPort!;
const post = (m: FromCalibrationWorker) => port.postMessage(m);
const init = workerData as CalibrationWorkerInit;
const slots = new Int32Array(init.slots);

// Tests only: this worker exits abruptly (as a crash would) when handed this sample index.
const exitAt = Number(process.env.ONNX_PTQ_TEST_CALIBRATION_WORKER_EXIT_AT ?? -1);

let collector: Collector | undefined;
let failed = false;
try {
  const session = await InferenceSession.create(loadModel(init.model), { allowNonFinite: init.cfg.allowNonFinite, runInWorker: false });
  collector = new Collector(session, init.cfg);
  // The pool size changed no float bits where measured (super-resolution-10 at 1, 2, 3 threads), and
  // the tests compare worker runs with one-thread runs byte for byte.
  const be = getBackend() as { setThreads?: (n: number) => void };
  be.setThreads?.(init.threads);
} catch (e) {
  failed = true;
  post({ type: 'error', error: errorToWire(e) });
}

port.on('message', (m: ToCalibrationWorker) => {
  // Handled only now that the start-up is over: a thread stopped while it loads the native addon
  // would abort the process (calibrate-workers.ts terminate()).
  if (m.type === 'stop') process.exit(0);
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
});
