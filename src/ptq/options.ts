/**
 * The options of quantize() and of `onnx-ptq quantize --config ptq.json`: one schema, documented
 * defaults, unknown keys refused.
 */
import { OnnxPtqError } from '../errors.js';
import { OBSERVER_KINDS, type ObserverKind, type ObserverOptions } from '../quant/observers/index.js';
import { isBlockSize, type Granularity } from '../quant/scheme.js';
import { PASS_NAMES, checkPassList } from '../passes/pipeline.js';
import { REQUANT_MODES, type RequantMode } from '../quant/requant.js';

export interface QuantizeOptions {
  /** Weight bit width, 2..8, stored as int8. Default 8. */
  weightBits: number;
  /**
   * Weight granularity. Default 'per-channel' (the output channel). 'per-group': PocketFlow's buckets
   * along the flattened weight, written as fake-quantized float. 'per-block': blocks of
   * weightGroupSize along the input channel (MatMul's K), one scale per block and output channel,
   * written as opset 21's blocked DequantizeLinear, int4/uint4 when weightBits <= 4 (the weight-only
   * 4-bit form of LLM toolchains); the bias then stays float.
   */
  weightGranularity: Granularity;
  /** Bucket size for 'per-group' weights; block size for 'per-block' (a power of two >= 16). Default 64. */
  weightGroupSize: number;
  /**
   * How per-block 4-bit MatMul weights are written: 'qdq' (default), blocked DequantizeLinear ->
   * MatMul, any runtime with opset 21; 'matmulnbits', onnxruntime's com.microsoft MatMulNBits (its
   * 4-bit GEMM kernels). Gemm and Conv layers stay QDQ either way.
   */
  weightFormat: 'qdq' | 'matmulnbits';
  /** Symmetric weights with a restricted range ([-127, 127] at 8 bits), zero point 0. Default true. */
  weightSymmetric: boolean;
  /**
   * Activation bit width: 2..8, or 16 for A16W8 (every activation int16 with 8-bit weights). Default 8.
   * A 16-bit activation is int16 with zero point 0 (TFLite's 16x8 convention; activationSigned and
   * activationSymmetric apply to the 8-bit ones), quantized to its observed [min, max] whatever the
   * observer (with 65,536 levels clipping buys nothing), and the model is written at opset 21, the first whose
   * QuantizeLinear/DequantizeLinear carry 16-bit types.
   */
  activationBits: number;
  /**
   * Activations held in int16 while the rest use activationBits (A16W8 per tensor): names of
   * tensors (a node's output, or a graph input). Default []. Sensitive tensors (a wide per-channel
   * range under one per-tensor scale) keep 256x the resolution and stay integer-only, instead of
   * going back to float. Same range rule and opset 21 as activationBits 16.
   */
  activation16: string[];
  /** Activations in int8 (true) or uint8 (false). Default false: uint8, asymmetric. */
  activationSigned: boolean;
  /** Symmetric activations. Default false. */
  activationSymmetric: boolean;
  /**
   * Calibration observer: minmax, moving-average, percentile, mse, kl. Default 'minmax'. Whatever
   * the observer, the output of a saturating op (Sigmoid, HardSigmoid, Tanh, Softmax, a Clip with
   * both bounds) keeps its observed range: the op already bounds it, and clipping further cuts the
   * rare large values that matter most there (KL cut PaddleOCR's squeeze-excitation gates from
   * [0, 0.74] to [0, 0.11], and the classifier's output to 0.6 dB SQNR).
   */
  observer: ObserverKind;
  /** Observer parameters (percentile, bins, steps, averagingConstant). Default {}. */
  observerOptions: ObserverOptions;
  /**
   * Let the observer clip graph inputs and outputs too. Default false: a graph input or output
   * (or a data-movement alias of one, or the logits of a final Softmax/LogSoftmax, whose argmax is
   * the class a user reads) is quantized to its observed [min, max] whatever the observer,
   * because a user hands in and reads those values, and clipping them (an image's bright pixels,
   * the winning logit) changes the answer rather than trading rounding for clipping inside the
   * model. When true, every graph input/output the observer clips is listed in the report's
   * `warnings` (and printed by the CLI).
   */
  clipGraphIO: boolean;
  /** Quantize weights only; activations stay float. Default false. */
  weightOnly: boolean;
  /**
   * 'static' (default): activation parameters from calibration, written as QDQ. 'dynamic':
   * onnxruntime's quantize_dynamic format, activations quantized per run from their own range (no
   * calibration data); MatMul/Gemm become DynamicQuantizeLinear + MatMulInteger (src/ptq/dynamic.ts).
   */
  mode: 'static' | 'dynamic';
  /** Keep the first Conv/Gemm/MatMul in float. Default false. */
  keepFirstLayerFloat: boolean;
  /** Keep the last Conv/Gemm/MatMul in float. Default false. */
  keepLastLayerFloat: boolean;
  /** Names of nodes to keep in float. Default []. */
  keepFloat: string[];
  /** "PTQ without rounding": recorded in the model; the float simulation then does not round. Default false. */
  noRounding: boolean;
  /** Requantization mode recorded for integer executors. Default 'fixed-point'. */
  requantMode: RequantMode;
  /** Use at most this many calibration samples (0: all). Default 0. */
  calibrationSamples: number;
  /**
   * Accept NaN and infinities in calibration samples and the activations they produce. Default
   * false: such a sample is refused (INVALID_DATA naming the tensor and sample), since it silently
   * poisoned the statistics (NaN biases, an integer model that outputs zeros). Either way a model
   * with a non-finite parameter is never returned.
   */
  allowNonFinite: boolean;
  /**
   * Fail (FLOAT_FALLBACK, naming the node and why; no model returned) when any node of the
   * quantized model would run in float in IntegerSession. Default false: such nodes are allowed
   * and IntegerSession.loweringReport() / `onnx-ptq inspect` list them.
   */
  strictInteger: boolean;
  /**
   * Empirical bias correction of weight rounding (Nagel et al. 2019), measured during calibration
   * (skipped when there is no calibration data). Default true: on super-resolution-10 it takes the
   * int8 output from 29.1 to 39.3 dB PSNR, for one extra layer evaluation per layer while calibrating.
   */
  biasCorrection: boolean;
  /** Fold BatchNormalization into the preceding Conv/Gemm first. Default true. */
  foldBatchNorm: boolean;
  /**
   * Fuse exporters' decomposed hardswish (x * relu6(x + 3) / 6, x * HardSigmoid(x, 1/6, 0.5)) into one
   * HardSwish node (src/passes/fuse-hardswish.ts), quantized once instead of at every step; the model
   * is then written at opset 14. Default true.
   */
  fuseHardSwish: boolean;
  /**
   * Fuse exporters' decomposed GELU (x * (1 + erf(x / sqrt 2)) / 2, and GPT-2's tanh form) into one
   * Gelu node (src/passes/fuse-gelu.ts), quantized once instead of at every step; the model is then
   * written at opset 20. Default true.
   */
  fuseGelu: boolean;
  /**
   * Fuse exporters' decomposed LayerNorm (ReduceMean, Sub, Pow, ReduceMean, Add eps, Sqrt, Div, then
   * Mul gamma / Add beta; src/passes/fuse-layer-norm.ts) into one LayerNormalization node, quantized
   * on its input and output only, gamma and beta inside the integer step; the model is then written
   * at opset 17. Default true.
   */
  fuseLayerNorm: boolean;
  /**
   * Passes to run, in a valid order (src/passes/pipeline.ts): smooth-quant, layer-split,
   * equalization, bias-correction, sign-map, joining-nodes, single-shift, adaround. Default [].
   */
  passes: string[];
  /**
   * Options per pass name, e.g. { "layer-split": { "interested_layers": ["conv1"] } } or
   * { "smooth-quant": { "alpha": 0.5 } }; each pass checks its own (unknown keys refused). Default {}.
   */
  passOptions: Record<string, Record<string, unknown>>;
}

export const DEFAULT_QUANTIZE_OPTIONS: Readonly<QuantizeOptions> = Object.freeze({
  weightBits: 8,
  weightGranularity: 'per-channel',
  weightGroupSize: 64,
  weightFormat: 'qdq',
  weightSymmetric: true,
  activationBits: 8,
  activation16: [],
  activationSigned: false,
  activationSymmetric: false,
  observer: 'minmax',
  observerOptions: {},
  clipGraphIO: false,
  weightOnly: false,
  keepFirstLayerFloat: false,
  keepLastLayerFloat: false,
  keepFloat: [],
  noRounding: false,
  requantMode: 'fixed-point',
  mode: 'static',
  calibrationSamples: 0,
  allowNonFinite: false,
  strictInteger: false,
  biasCorrection: true,
  foldBatchNorm: true,
  fuseHardSwish: true,
  fuseGelu: true,
  fuseLayerNorm: true,
  passes: [],
  passOptions: {},
});

function bad(key: string, why: string, source: string): never {
  throw new OnnxPtqError('INVALID_OPTION', `${source}: option '${key}' ${why}`);
}

/** Merges user options over the defaults, checking every key and value. `source` names the file or API. */
export function resolveQuantizeOptions(user: Record<string, unknown> = {}, source = 'quantize()'): QuantizeOptions {
  if (user === null || typeof user !== 'object' || Array.isArray(user))
    throw new OnnxPtqError('INVALID_OPTION', `${source}: options must be an object`);
  const o: Record<string, unknown> = { ...DEFAULT_QUANTIZE_OPTIONS };
  for (const [k, v] of Object.entries(user)) {
    if (v === undefined) continue;
    if (!(k in DEFAULT_QUANTIZE_OPTIONS)) bad(k, `is unknown (known: ${Object.keys(DEFAULT_QUANTIZE_OPTIONS).join(', ')})`, source);
    o[k] = v;
  }
  const r = o as unknown as QuantizeOptions;
  const int = (k: keyof QuantizeOptions, lo: number, hi: number) => {
    const v = r[k] as unknown;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi)
      bad(k, `must be an integer in [${lo}, ${hi}], got ${JSON.stringify(v)}`, source);
  };
  const bool = (k: keyof QuantizeOptions) => {
    if (typeof r[k] !== 'boolean') bad(k, `must be true or false, got ${JSON.stringify(r[k])}`, source);
  };
  const oneOf = (k: keyof QuantizeOptions, vals: readonly string[]) => {
    if (!vals.includes(r[k] as string)) bad(k, `must be one of ${vals.join(', ')}, got ${JSON.stringify(r[k])}`, source);
  };
  int('weightBits', 2, 8);
  if (r.activationBits !== 16) int('activationBits', 2, 8);
  int('weightGroupSize', 1, 1 << 24);
  int('calibrationSamples', 0, 1 << 30);
  for (const k of [
    'clipGraphIO',
    'weightSymmetric',
    'activationSigned',
    'activationSymmetric',
    'weightOnly',
    'keepFirstLayerFloat',
    'keepLastLayerFloat',
    'noRounding',
    'foldBatchNorm',
    'fuseHardSwish',
    'fuseGelu',
    'fuseLayerNorm',
    'biasCorrection',
    'allowNonFinite',
    'strictInteger',
  ] as const)
    bool(k);
  oneOf('weightGranularity', ['per-tensor', 'per-channel', 'per-group', 'per-block']);
  oneOf('observer', OBSERVER_KINDS);
  oneOf('requantMode', REQUANT_MODES);
  oneOf('mode', ['static', 'dynamic']);
  oneOf('weightFormat', ['qdq', 'matmulnbits']);
  if (!Array.isArray(r.keepFloat) || r.keepFloat.some((s) => typeof s !== 'string'))
    bad('keepFloat', 'must be a list of node names', source);
  if (!Array.isArray(r.activation16) || r.activation16.some((s) => typeof s !== 'string'))
    bad('activation16', 'must be a list of tensor names', source);
  if (!Array.isArray(r.passes) || r.passes.some((s) => typeof s !== 'string')) bad('passes', 'must be a list of pass names', source);
  checkPassList(r.passes, source);
  if (typeof r.passOptions !== 'object' || r.passOptions === null || Array.isArray(r.passOptions))
    bad('passOptions', 'must be an object keyed by pass name', source);
  for (const [k, v] of Object.entries(r.passOptions)) {
    if (!(PASS_NAMES as readonly string[]).includes(k)) bad(`passOptions.${k}`, `names no pass (known: ${PASS_NAMES.join(', ')})`, source);
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      bad(`passOptions.${k}`, "must be an object of that pass's options", source);
  }
  if (typeof r.observerOptions !== 'object' || r.observerOptions === null || Array.isArray(r.observerOptions))
    bad('observerOptions', 'must be an object', source);
  if (r.weightGranularity === 'per-block') {
    const b = r.weightGroupSize;
    if (!isBlockSize(b)) bad('weightGroupSize', `is ${b}; per-block weights need a power of two >= 16 (16, 32, 64, 128, ...)`, source);
    for (const pass of ['single-shift', 'adaround'])
      if (r.passes.includes(pass)) bad('passes', `'${pass}' works on per-tensor or per-channel weight scales, not per-block`, source);
    // onnxruntime fuses an 8-bit blocked weight DequantizeLinear between quantized activations into
    // QLinearMatMul, which then refuses the blocked scales at run time (1.30); 4-bit ones it leaves alone.
    if (r.weightBits > 4 && !r.weightOnly)
      bad(
        'weightGranularity',
        `'per-block' with ${r.weightBits}-bit weights needs weightOnly (at most 4 bits with quantized activations)`,
        source,
      );
    if (r.mode === 'dynamic')
      bad('mode', "'dynamic' writes MatMulInteger, whose weights are per tensor or per column, not per block", source);
  }
  if (r.weightFormat === 'matmulnbits' && (r.weightGranularity !== 'per-block' || r.weightBits !== 4))
    bad('weightFormat', "'matmulnbits' needs weightGranularity 'per-block' and weightBits 4", source);
  const known = ['averagingConstant', 'percentile', 'bins', 'steps'];
  for (const k of Object.keys(r.observerOptions))
    if (!known.includes(k)) bad(`observerOptions.${k}`, `is unknown (known: ${known.join(', ')})`, source);
  return {
    ...r,
    keepFloat: [...r.keepFloat],
    activation16: [...r.activation16],
    passes: [...r.passes],
    passOptions: { ...r.passOptions },
    observerOptions: { ...r.observerOptions },
  };
}
