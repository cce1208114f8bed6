/**
 * Input ranges of saturating ops. A tensor read only by Sigmoid, Tanh or HardSigmoid needs no
 * quantization levels where the op's output is already within half an output step of its bound:
 * those inputs all quantize to the same output code. Clipping the input range there spends the
 * 2^bits levels where the op has slope. PP-OCRv4 det's logits span [-194, 110] (scale 1.19 in
 * uint8), so the probability map kept 13 distinct values; clipped to +-6.2 the map resolves
 * every output step near 0.5.
 *
 * With n = 2^bits - 1 output steps over the op's output range and h = 1 / (2n) (half a step as a
 * fraction of that range):
 *  - Sigmoid: sigmoid(x) = h at x = -ln((1 - h) / h); symmetric above.
 *  - Tanh: tanh(x) = 1 - 2h at x = atanh(1 - 2h) = ln((1 - h) / h) / 2.
 *  - HardSigmoid(alpha, beta): exactly flat outside [-beta / alpha, (1 - beta) / alpha].
 */
import type { Graph } from '../ir/graph.js';

/** The input interval outside which every reader of `tensor` saturates, or undefined if some reader does not. */
export function saturatedInputRange(g: Graph, tensor: string, bits: number): { lo: number; hi: number } | undefined {
  const readers = g.consumersOf(tensor);
  if (readers.length === 0 || g.outputs.some((o) => o.name === tensor)) return undefined;
  const h = 1 / (2 * (2 ** bits - 1));
  let lo = Infinity,
    hi = -Infinity;
  for (const n of readers) {
    if (n.domain || n.inputs[0] !== tensor) return undefined;
    let l: number, u: number;
    if (n.opType === 'Sigmoid') {
      u = Math.log((1 - h) / h);
      l = -u;
    } else if (n.opType === 'Tanh') {
      u = Math.log((1 - h) / h) / 2;
      l = -u;
    } else if (n.opType === 'HardSigmoid') {
      const a = n.attributes.get('alpha'),
        b = n.attributes.get('beta');
      const alpha = a?.type === 'float' ? a.value : 0.2,
        beta = b?.type === 'float' ? b.value : 0.5;
      if (!(alpha > 0)) return undefined;
      l = -beta / alpha;
      u = (1 - beta) / alpha;
    } else {
      return undefined;
    }
    // Several readers: the union, so that no reader loses a level it uses.
    lo = Math.min(lo, l);
    hi = Math.max(hi, u);
  }
  // One step of margin each side: the zero point's rounding moves the representable interval by up
  // to half a step, and a bound that falls inside it (HardSigmoid(2.49) = 0.998) leaves every
  // saturated value one output step short.
  const step = (hi - lo) / (2 ** bits - 1);
  return { lo: lo - step, hi: hi + step };
}
