// Op registries for running QDQ models in float, with or without rounding in QuantizeLinear.
import { OnnxPtqError } from '../../errors.js';
import { defaultOps, OpRegistry } from '../../ops/index.js';
import { makeQdqOps } from '../../ops/qdq.js';

/**
 * A copy of `base` (default: the built-in ops) whose QuantizeLinear rounds (`rounding: true`, the
 * ONNX op) or not (`rounding: false`: "PTQ without rounding", a debug mode where QuantizeLinear
 * outputs the clamped real value x / S + Z as float32 and DequantizeLinear accepts it, so that a run
 * separates rounding error from clipping error).
 */
export function createQdqRegistry(opts: { rounding: boolean }, base: OpRegistry = defaultOps): OpRegistry {
  if (!opts || typeof opts.rounding !== 'boolean')
    throw new OnnxPtqError('INVALID_OPTION', 'createQdqRegistry: option rounding must be a boolean');
  const reg = new OpRegistry();
  for (const key of base.list()) {
    const cut = key.lastIndexOf('::');
    const domain = cut >= 0 ? key.slice(0, cut) : '';
    const op = cut >= 0 ? key.slice(cut + 2) : key;
    reg.register(op, base.get(op, domain)!, domain);
  }
  reg.registerAll(makeQdqOps(opts.rounding));
  return reg;
}
