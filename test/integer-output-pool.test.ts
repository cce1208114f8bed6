// Run outputs from the addon's pool of recycled blocks (native/napi/output-pool.cc): an output is
// the caller's, so a later run never writes into an output still referenced, and a recycled block
// (not zeroed) is written in full, so a run's output equals the JS reference whatever the block held
// before. Once dropped outputs are collected, later outputs reuse their blocks.
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { loadedBackends } from './backends.js';
import { defaultAddonPath } from '../src/backends/paths.js';
import { convModel, randomInput } from './integer-models.js';

const hasNative = loadedBackends.some((b) => b.name === 'native');
const dims = [1, 3, 40, 40]; // 8 x 40 x 40 float outputs: 51,200 bytes, below the pooled range
const big = [1, 3, 64, 64]; // 131,072 bytes: pooled
const model = convModel({ cout: 8, relu: false });
model.graph.inputs[0]!.shape = [1, 3, 'h', 'w']; // any size
const yieldToLoop = () => new Promise((r) => setImmediate(r));
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void; // a collection on demand, so that dropped outputs are finalized

describe.runIf(hasNative)('output pool', () => {
  it("outputs stay the caller's, equal the JS reference, and are served from the pool", async () => {
    const addon = createRequire(import.meta.url)(defaultAddonPath) as {
      outputPoolStats(): { hits: number; misses: number; freeBytes: number; outstandingBytes: number };
    };
    const native = await IntegerSession.create(model, { backend: 'native', runInWorker: false });
    const js = await IntegerSession.create(model, { backend: 'js', runInWorker: false });
    const want = (x: ReturnType<typeof randomInput>) => Array.from(js.runSync({ x }).y!.data as Float32Array);
    for (const d of [dims, big]) {
      const inputs = Array.from({ length: 6 }, (_, i) => randomInput(d, 300 + i, -4 - i, 4 + i));
      const kept = inputs.map((x) => native.runSync({ x }).y!);
      // Every output still holds its own run's values after the later runs.
      for (let i = 0; i < inputs.length; i++) expect(Array.from(kept[i]!.data as Float32Array)).toEqual(want(inputs[i]!));
    }
    const before = addon.outputPoolStats();
    // Dropped outputs return their blocks once collected (the finalizer runs from the event loop);
    // outputs written into recycled blocks are still exact.
    for (let r = 0; r < 40; r++) {
      const x = randomInput(big, 400 + r, -3, 3);
      expect(Array.from(native.runSync({ x }).y!.data as Float32Array)).toEqual(want(x));
      if (r % 8 === 7) gc();
      await yieldToLoop();
    }
    const after = addon.outputPoolStats();
    expect(after.hits + after.misses).toBeGreaterThan(before.hits + before.misses);
    expect(after.hits).toBeGreaterThan(before.hits);
  }, 60_000);
});
