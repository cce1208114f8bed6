/**
 * What the quantization-parameter passes (sign-map, joining-nodes, single-shift) read and edit:
 * quantize() builds it after calibration and before it writes QDQ. These passes change no node;
 * they decide activation parameters (and, for single-shift, weight scales).
 */
import type { Node } from '../ir/graph.js';
import type { ActivationParams } from '../ptq/qdq-export.js';

export interface QuantState {
  /** Calibrated tensors: the range to quantize (after the observer's clipping). */
  ranges: Map<string, { min: number; max: number }>;
  /** Data-movement outputs that share their source's parameters: tensor -> source. */
  aliases: ReadonlyMap<string, string>;
  /** Activation target of the options. */
  bits: number;
  signed: boolean;
  symmetric: boolean;
  /** Set by sign-map: tensors given uint8 with zero point 0 on [0, max]. */
  unsignedZero: Set<string>;
  /** Parameters per calibrated tensor; filled by quantize() before joining-nodes and single-shift. */
  params: Map<string, ActivationParams>;
  /** Quantized compute layers. */
  layers: readonly Node[];
  /** Set by single-shift: per layer, the weight scales to use instead of the computed ones. */
  weightScale: Map<Node, (scale: Float32Array, perChannel: boolean) => Float32Array>;
  /**
   * Set by adaround: per layer, the integer weights to export instead of round(W / s) + z (same
   * scales and zero points, same container type).
   */
  weightValues?: Map<Node, Int8Array | Uint8Array>;
  /** Set by single-shift: the requantization mode the model must run in. */
  requantMode?: 'shift';
}

/** The tensor whose parameters `t` uses. */
export function rootOf(s: QuantState, t: string): string {
  return s.aliases.get(t) ?? t;
}
