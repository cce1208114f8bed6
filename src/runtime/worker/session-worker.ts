// The worker-thread side of an asynchronous session: builds its own session from the model source
// and runs feeds one message at a time (so concurrent run() calls are queued, in order).
import { parentPort, workerData } from 'node:worker_threads';
import { IntegerSession, type IntegerSessionOptions } from '../integer/session.js';
import { InferenceSession, type SessionOptions } from '../session.js';
import type { Tensor } from '../../tensor.js';
import { errorToWire, feedsFromWire, toWire, type FromWorker, type ToWorker, type WireTensor, type WorkerInit } from './protocol.js';

const port = parentPort!;
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
const init = workerData as WorkerInit;

let session: { runSync(feeds: Record<string, Tensor>, fetches?: readonly string[]): Record<string, Tensor> } | undefined;
try {
  session =
    init.kind === 'float'
      ? await InferenceSession.create(init.source, init.options as SessionOptions)
      : IntegerSession.createSync(init.source, init.options as IntegerSessionOptions);
  post({ type: 'ready' });
} catch (e) {
  post({ type: 'init-error', error: errorToWire(e) });
}

port.on('message', (m: ToWorker) => {
  if (m.type !== 'run' || !session) return;
  try {
    const feeds = feedsFromWire(m.feeds);
    const outs = session.runSync(feeds, m.outputs);
    const wire: Record<string, WireTensor> = {};
    const transfer: ArrayBuffer[] = [];
    for (const [k, t] of Object.entries(outs)) {
      if (!ArrayBuffer.isView(t.data)) {
        wire[k] = toWire(t);
        continue;
      }
      // A copy we own, so that transferring it can never detach a constant or a feed.
      const data = (t.data as Uint8Array).slice();
      wire[k] = { ...toWire(t), data: data as unknown as WireTensor['data'] };
      transfer.push(data.buffer as ArrayBuffer);
    }
    post({ type: 'result', id: m.id, outputs: wire }, transfer);
  } catch (e) {
    post({ type: 'error', id: m.id, error: errorToWire(e) });
  }
});
