#!/usr/bin/env bash
# Drop-in check: pack the package, install the tarball into an empty folder, import it there and
# ask its CLI which backends loaded (native and wasm must both load).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root"
tarball=$(npm pack --silent --pack-destination "$tmp" | tail -n 1)
mkdir "$tmp/app"
cd "$tmp/app"
npm init -y >/dev/null
# npm 11 runs a dependency's install script only when allowed; the consumer allows ours.
node -e 'const f="package.json",p=require("./"+f);p.type="module";p.allowScripts={"onnx-ptq":true};require("fs").writeFileSync(f,JSON.stringify(p,null,2))'
npm install --no-audit --no-fund "$tmp/$tarball"
node --input-type=module -e "
import * as m from 'onnx-ptq';
const b = m.getBackend();
if (typeof m.makeRequant !== 'function') throw new Error('makeRequant missing');
// Synthetic text needs opentype.js as a runtime dependency (and the DejaVu fonts).
const t = m.syntheticTextSet(1, 0, 'x')[0].x;
if (t.dims.join() !== '1,3,48,192') throw new Error('syntheticTextSet: dims ' + t.dims.join());
if (typeof m.analyze !== 'function' || typeof m.keepFloatAuto !== 'function' || typeof m.tryFixes !== 'function') throw new Error('analysis API missing');
console.log('import ok; auto backend:', b.name, 'qgemm variant:', b.dispatch.qgemm);
"
# run() on a worker thread from the installed package (dist/runtime/worker/session-worker.js), float
# and integer, against runSync on the calling thread.
MNIST="$root/../shared/fixtures/models/mnist-8/model.onnx" node --input-type=module -e "
import * as m from 'onnx-ptq';
const x = new m.Tensor('float32', Float32Array.from({ length: 784 }, (_, i) => (i % 29) * 9), [1, 1, 28, 28]);
const f = await m.InferenceSession.create(process.env.MNIST);
const { model } = await m.quantize(process.env.MNIST, { calibration: [{ Input3: x }] });
const q = await m.IntegerSession.create(model);
for (const s of [f, q]) {
  const a = (await s.run({ Input3: x }))[s.outputNames[0]].data, b = s.runSync({ Input3: x })[s.outputNames[0]].data;
  if (a.length !== b.length || a.some((v, i) => v !== b[i])) throw new Error('run() on the worker differs from runSync()');
  await s.release();
}
console.log('run() on a worker thread: float and integer sessions match runSync');
"
npx onnx-ptq backends --json > backends.json
node -e '
const r = JSON.parse(require("fs").readFileSync("backends.json", "utf8"));
const by = Object.fromEntries(r.backends.map((b) => [b.name, b]));
for (const n of ["native", "wasm"]) if (!by[n].loaded) { console.error(n + " did not load: " + by[n].error); process.exit(1); }
console.log("pack smoke: native and wasm loaded in a fresh install (" + by.native.dispatch.qgemm + ", " + by.wasm.dispatch.qgemm + ")");
'
