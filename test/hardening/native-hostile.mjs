// Child process of hardening-native.test.ts: calls the raw addon with hostile sizes and tiny
// buffers. A C++ exception across N-API aborts this process (the test sees the signal); each call
// must instead throw a JS Error. Prints one JSON line: per case, the message and the RSS growth.
import { createRequire } from 'node:module';

const addon = createRequire(import.meta.url)(process.argv[2]);
const rq = { mode: 0, multiplier: new Int32Array([1 << 30]), shift: new Int32Array([1]), scale: new Float32Array([1]), zeroPoint: 0, min: 0, max: 255 };
const qgemm = (d) => () => addon.qgemm({
  m: d, n: d, k: d, lda: d, ldb: d, ldy: d, a: new Uint8Array(4), aZeroPoint: 0, b: new Int8Array(4), bZeroPoint: new Int32Array(1),
  bias: null, requant: rq, y: new Uint8Array(4), variant: -1,
});
const gemmF32 = (d) => () => addon.gemmF32(Float64Array.from([d, d, d, d, d, d, 0, 0, 0, 0]), 1, 0, -Infinity, Infinity,
  new Float32Array(1), new Float32Array(1), null, new Float32Array(1), -1);
// A 1x1 image with a 65535-wide kernel and pads (fields: n c h w m kh kw oh ow sh sw pt pl dh dw group): the workspace (im2col) would be huge, the buffers are tiny.
const conv2dF32 = () => addon.conv2dF32(Int32Array.from([1, 64, 1, 1, 64, 1, 65535, 1, 1, 1, 1, 0, 32767, 1, 1, 1]), -Infinity, Infinity,
  new Float32Array(1), new Float32Array(1), null, new Float32Array(1), -1);
const cases = { qgemm65536: qgemm(65536), gemmF32_65536: gemmF32(65536), qgemm8000: qgemm(8000), gemmF32_8000: gemmF32(8000), conv2dF32: conv2dF32 };
const out = {};
for (const [name, f] of Object.entries(cases)) {
  const rss0 = process.memoryUsage().rss;
  let message = null;
  try {
    f();
  } catch (e) {
    message = e instanceof Error ? e.message : String(e);
  }
  out[name] = { message, rssGrowthMB: (process.memoryUsage().rss - rss0) / 2 ** 20 };
}
console.log(JSON.stringify(out));
