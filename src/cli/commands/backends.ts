/** `onnx-ptq backends [--json]`: which backends loaded, which failed and why, which variants run. */
import { getRegistry } from '../../backends/registry.js';
import { parse } from '../args.js';

const HELP = `usage: onnx-ptq backends [--json] [--quiet]

Tries every backend (native N-API addon, WebAssembly, pure JS) and prints which loaded, why the
others failed, the kernel variants each can run and the one each kernel dispatches to. For native,
whether the addon is the prebuilt one shipped in the package or one compiled on this machine, and
why a prebuilt that is present did not load (then the compiled one, or wasm, is used).

  --json       machine-readable output
  --quiet, -q  print nothing: exit code 0 when a backend can be selected, 1 when none can

examples:
  onnx-ptq backends
  onnx-ptq backends --json
  ONNX_PTQ_BACKEND=wasm onnx-ptq backends   # the selected backend changes, the list does not`;

export async function main(argv: string[]): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' }, quiet: { type: 'boolean', short: 'q' } }, false);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const registry = getRegistry();
  const rows = registry.status().map((s) => {
    const b = s.loaded ? registry.get(s.name) : undefined;
    return { ...s, variants: b?.variants ?? [], dispatch: b?.dispatch ?? {} };
  });
  let selected: string | null = null;
  let selectError: string | null = null;
  try {
    const env = process.env.ONNX_PTQ_BACKEND;
    selected = registry.get((env as 'auto' | undefined) ?? 'auto').name;
  } catch (e) {
    selectError = (e as Error).message;
  }
  if (values.quiet) {
    // Exit code only: 0 when a backend can be selected.
  } else if (values.json) {
    console.log(JSON.stringify({ selected, selectError, backends: rows }, null, 2));
  } else {
    for (const r of rows) {
      const mark = r.name === selected ? '*' : ' ';
      if (r.loaded) {
        const disp = Object.entries(r.dispatch)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ');
        console.log(`${mark} ${r.name.padEnd(6)} loaded   variants: ${r.variants.join(', ')}   dispatch: ${disp}`);
        // Native: prebuilt (shipped in the package) or compiled here, and why a prebuilt was passed over.
        if (r.addon) console.log(`         addon: ${r.addon.kind} ${r.addon.path}`);
        for (const f of r.addon?.fallbacks ?? []) console.log(`         ${f.kind} ${f.path} not used: ${f.error}`);
      } else {
        console.log(`${mark} ${r.name.padEnd(6)} FAILED   ${r.error}`);
      }
    }
    console.log(selected ? `selected: ${selected}` : `no backend selected: ${selectError}`);
  }
  return selected ? 0 : 1;
}
