// Child process of hardening-native.test.ts: several worker_threads run native convolutions while
// one of them keeps changing the thread count. With one process-wide pool this hung forever
// (setThreads joined the threads another worker's ParallelFor waited on). Prints "ok <checksum>"
// when every worker finished and all computed the same outputs.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createRequire } from 'node:module';

const WORKERS = 4, RUNS = 200;

if (isMainThread) {
  const results = await Promise.all(Array.from({ length: WORKERS }, (_, i) => new Promise((resolve, reject) => {
    const w = new Worker(new URL(import.meta.url), { workerData: { addonPath: process.argv[2], index: i } });
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => { if (code !== 0) reject(new Error(`worker ${i} exited with ${code}`)); });
  })));
  if (new Set(results).size !== 1) throw new Error(`workers disagree: ${results.join(', ')}`);
  console.log(`ok ${results[0]}`);
} else {
  const addon = createRequire(import.meta.url)(workerData.addonPath);
  // Large enough to be split across the pool's threads.
  const shape = Int32Array.from([1, 32, 40, 40, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  const w = Int8Array.from({ length: 64 * 32 * 9 }, () => rnd() - 128);
  const x = Uint8Array.from({ length: 32 * 40 * 40 }, rnd);
  const packed = addon.qconv2dPack({ shape, w, wZeroPoint: new Int32Array(1), bias: null, variant: -1 });
  const rq = { mode: 1, multiplier: new Int32Array(1), shift: new Int32Array(1), scale: new Float32Array([1 / 4096]), zeroPoint: 128, min: 0, max: 255 };
  const y = new Uint8Array(64 * 40 * 40);
  let sum = 0;
  for (let r = 0; r < RUNS; r++) {
    if (workerData.index === 0) addon.setThreads(1 + (r % 4));
    addon.qconv2d({ shape, packed, x, xZeroPoint: 0, requant: rq, y });
    if (workerData.index === 0 && r % 2) addon.setThreads(3);
    let s = 0;
    for (let i = 0; i < y.length; i++) s = (s * 31 + y[i]) >>> 0;
    sum = (sum + s) >>> 0;
  }
  parentPort.postMessage(sum);
}
