/**
 * The pass pipeline of quantize(): names, phases and the order checks.
 *   phase 0, on the float graph before calibration: smooth-quant, layer-split, equalization, in any
 *   order among them (each preserves the float function, and quantize() measures the activation
 *   ranges a pass needs on the graph as the passes before it left it); PASS_NAMES lists smooth-quant
 *   first because the weight outliers it moves into a Gemm are what layer-split can then split;
 *   phase 1, after weight quantization is known: bias-correction (measured during calibration);
 *   phase 2..4, on the activation parameters after calibration: sign-map, then joining-nodes, then
 *   single-shift (it needs the final scales);
 *   phase 5, after every scale is fixed: adaround (learns each weight's rounding on those scales; bias
 *   correction, when on, then measures the learned weights in a second pass over the data).
 * A list out of this order is refused with the reason, not reordered silently.
 */
import { OnnxPtqError } from '../errors.js';

export const PASS_NAMES = [
  'smooth-quant',
  'layer-split',
  'equalization',
  'bias-correction',
  'sign-map',
  'joining-nodes',
  'single-shift',
  'adaround',
] as const;
export type PassName = (typeof PASS_NAMES)[number];

const PHASE: Record<PassName, number> = {
  'smooth-quant': 0,
  'layer-split': 0,
  equalization: 0,
  'bias-correction': 1,
  'sign-map': 2,
  'joining-nodes': 3,
  'single-shift': 4,
  adaround: 5,
};
const WHY: Record<number, string> = {
  0: 'it rewrites float weights, which calibration and later passes measure',
  1: 'bias correction measures the quantized weights of the final graph, before activation parameters are set',
  2: "the sign map decides each tensor's 8-bit type, which joins and shifts build on",
  3: 'joins merge scales that single-shift then rounds to powers of two',
  4: 'single-shift fixes the weight scales whose rounding adaround learns',
};

/** Checks names, duplicates and order; returns the list typed. */
export function checkPassList(passes: readonly string[], source = 'quantize()'): PassName[] {
  const seen = new Set<string>();
  let last: PassName | undefined;
  for (const p of passes) {
    if (!(PASS_NAMES as readonly string[]).includes(p))
      throw new OnnxPtqError('INVALID_OPTION', `${source}: option 'passes': unknown pass '${p}' (known: ${PASS_NAMES.join(', ')})`);
    if (seen.has(p)) throw new OnnxPtqError('INVALID_OPTION', `${source}: option 'passes': pass '${p}' is listed twice`);
    seen.add(p);
    const q = p as PassName;
    if (last && PHASE[q] < PHASE[last]) {
      throw new OnnxPtqError(
        'INVALID_OPTION',
        `${source}: option 'passes': pass '${q}' cannot run after '${last}': '${q}' must come first (${WHY[PHASE[q]]})`,
      );
    }
    last = q;
  }
  return passes as PassName[];
}
