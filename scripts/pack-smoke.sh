#!/usr/bin/env bash
# Drop-in check: pack the package (prepack builds the prebuilt addon from these sources), install
# the tarball into an empty folder with no C++ compiler, cmake or make on the PATH, import it there and
# ask its CLI which backends loaded: native (from the prebuilt, nothing compiled) and wasm must load.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root"
tarball=$(npm pack --silent --pack-destination "$tmp" | tail -n 1)
# (a file, not a pipe: grep -q exits at the first match and pipefail would fail on tar's SIGPIPE)
tar -tzf "$tmp/$tarball" > "$tmp/contents.txt"
grep -qx 'package/prebuilds/linux-x64/onnxptq.node' "$tmp/contents.txt" \
  || { echo "pack smoke: the tarball has no prebuilds/linux-x64/onnxptq.node" >&2; exit 1; }
[ ! -e prebuilds ] || { echo "pack smoke: postpack left prebuilds/ in the checkout" >&2; exit 1; }
# A PATH without compilers and build tools: every other command of the PATH, linked into one folder.
nocc="$tmp/bin"
mkdir "$nocc"
IFS=: read -r -a dirs <<< "$PATH"
for d in "${dirs[@]}"; do
  [ -d "$d" ] || continue
  for f in "$d"/*; do
    n=$(basename "$f")
    case "$n" in
      cc|c++|gcc*|g++*|cpp*|clang*|*-linux-gnu-g*|*-linux-gnu-c*|cmake*|ctest|cpack|make|gmake|ninja*|em++|emcc*|ld|ld.*|as) continue ;;
    esac
    [ -x "$f" ] && [ ! -e "$nocc/$n" ] && ln -s "$f" "$nocc/$n"
  done
done
export PATH="$nocc"
for t in cc c++ g++ gcc cmake make ninja; do
  if command -v "$t" >/dev/null 2>&1; then echo "pack smoke: $t is still on the PATH" >&2; exit 1; fi
done
mkdir "$tmp/app"
cd "$tmp/app"
npm init -y >/dev/null
# npm 11 runs a dependency's install script only when allowed; the consumer allows ours.
node -e 'const f="package.json",p=require("./"+f);p.type="module";p.allowScripts={"onnx-ptq":true};require("fs").writeFileSync(f,JSON.stringify(p,null,2))'
npm install --no-audit --no-fund "$tmp/$tarball"
node --input-type=module -e "
import * as m from 'onnx-ptq';
import * as tools from 'onnx-ptq/tools';
const b = m.getBackend();
if (typeof m.makeRequant !== 'function') throw new Error('makeRequant missing');
if ('syntheticTextSet' in m) throw new Error('syntheticTextSet belongs to onnx-ptq/tools, not the main entry');
// Synthetic text (onnx-ptq/tools) needs opentype.js as a runtime dependency (and the DejaVu fonts).
const t = tools.syntheticTextSet(1, 0, 'x')[0].x;
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
# The README's ESM example, verbatim but for the model (mnist-8) and its input size: every call in it
# must exist and run from the installed package.
node -e '
const fs = require("fs");
const readme = fs.readFileSync(process.argv[1], "utf8");
const code = readme.split("```js\n")[1].split("```")[0];
const mnist = process.argv[2];
const x = "new m.Tensor(\"float32\", Float32Array.from({ length: 784 }, (_, i) => (i % 31) * 8), [1, 1, 28, 28])";
let body = code.replace(/^import .* from .onnx-ptq.;$/m, "")
  .replaceAll("\x27model.onnx\x27", JSON.stringify(mnist)).replaceAll("\x27model-int8.onnx\x27", JSON.stringify("mnist-int8.onnx"))
  .replace("new Float32Array(1 * 3 * 224 * 224), [1, 3, 224, 224]", "Float32Array.from({ length: 784 }, (_, i) => (i % 29) * 9), [1, 1, 28, 28]");
const names = code.match(/^import \{([^}]*)\} from .onnx-ptq.;$/m)[1];
const head = "import * as m from \"onnx-ptq\";\nconst {" + names + "} = m;\nconst samples = [{ Input3: " + x + " }];\nconst evalSamples = samples;\n";
fs.writeFileSync("readme-example.mjs", head + body + "\nif (!y || y.dims.join() !== \"1,10\") throw new Error(\"README example: output dims \" + y?.dims);\nconsole.log(\"README ESM example ran: \" + analysis.layers.length + \" layers analysed, \" + fixes.length + \" fixes\");\n");
' "$root/README.md" "$root/../shared/fixtures/models/mnist-8/model.onnx"
node readme-example.mjs
npx onnx-ptq backends --json > backends.json
node -e '
const r = JSON.parse(require("fs").readFileSync("backends.json", "utf8"));
const by = Object.fromEntries(r.backends.map((b) => [b.name, b]));
for (const n of ["native", "wasm"]) if (!by[n].loaded) { console.error(n + " did not load: " + by[n].error); process.exit(1); }
if (by.native.addon?.kind !== "prebuilt") { console.error("native loaded, but not the prebuilt: " + JSON.stringify(by.native.addon)); process.exit(1); }
if (require("fs").existsSync("node_modules/onnx-ptq/build")) { console.error("the install compiled the addon although a prebuilt ships"); process.exit(1); }
console.log("pack smoke: native (prebuilt, no compiler on the PATH) and wasm loaded in a fresh install (" + by.native.dispatch.qgemm + ", " + by.wasm.dispatch.qgemm + ")");
'
