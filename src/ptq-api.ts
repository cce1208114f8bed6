// Public API of quantization: quantize(), validate(), observers, schemes, passes, data sets.
export {
  quantize,
  calibrate,
  type QuantizeInput,
  type CalibrateInput,
  type RunSettings,
  type QuantizeResult,
  type QuantizeReport,
  type ActivationReport,
} from './ptq/quantize.js';
export {
  loadStats,
  saveStats,
  mergeStats,
  statsOptions,
  STATS_FORMAT,
  STATS_VERSION,
  type CalibrationStats,
  type ProbeStats,
} from './ptq/stats.js';
export { resolveQuantizeOptions, DEFAULT_QUANTIZE_OPTIONS, type QuantizeOptions } from './ptq/options.js';
export { validate, type ValidateOptions, type ValidateResult, type QuantExecutor } from './ptq/validate.js';
export type { CalibrationData, Feeds } from './ptq/calibrate.js';
export {
  createObserver,
  OBSERVER_KINDS,
  AdaptiveHistogram,
  type Observer,
  type ObserverKind,
  type ObserverOptions,
  type ObserverState,
} from './quant/observers/index.js';
export {
  computeParams,
  paramsForRange,
  quantRange,
  quantizeTensor,
  dequantizeTensor,
  fakeQuantize,
  type QuantParams,
  type QuantScheme,
  type Granularity,
} from './quant/scheme.js';
export { GraphPass, type PassReport } from './passes/pass.js';
export { FoldBatchNormPass, type FoldBatchNormOptions } from './passes/fold-batchnorm.js';
export { FoldBiasAddPass, type FoldBiasAddOptions } from './passes/fold-bias-add.js';
export { FuseHardSwishPass, type FuseHardSwishOptions } from './passes/fuse-hardswish.js';
export { FuseGeluPass, type FuseGeluOptions } from './passes/fuse-gelu.js';
export { openDataset, readLabels, type Dataset, type DatasetOptions, type ImageOptions } from './data/dataset.js';
export { EqualizationPass, type EqualizationOptions } from './passes/equalization.js';
export { LayerSplitPass, type LayerSplitOptions } from './passes/layer-split.js';
export {
  SmoothQuantPass,
  DEFAULT_SMOOTH_QUANT_OPTIONS,
  type SmoothQuantOptions,
  type SmoothQuantSite,
  type SmoothQuantEdit,
} from './passes/smooth-quant.js';
export { SignMapPass, type SignMapOptions } from './passes/sign-map.js';
export { JoiningNodesPass, type JoiningNodesOptions } from './passes/joining-nodes.js';
export { SingleShiftPass, type SingleShiftOptions } from './passes/single-shift.js';
export { AdaRoundPass, ADAROUND_DEFAULTS, type AdaRoundOptions } from './passes/adaround.js';
export { checkPassList } from './passes/pipeline.js';
// Error analysis, suggested fixes, mixed precision, reports (synthetic data: src/tools.ts).
export {
  analyze,
  compareOutput,
  floatReference,
  measuredOutput,
  type AnalysisReport,
  type AnalyzeOptions,
  type ErrorStats,
  type LayerAnalysis,
  type ActivationInfo,
  type WeightInfo,
} from './analysis/analyze.js';
export { keepFloatAuto, type MixedPrecisionOptions, type MixedPrecisionResult, type EvalPoint } from './analysis/mixed-precision.js';
export {
  suggestFixes,
  tryFixes,
  type Cause,
  type FixKind,
  type FixTrial,
  type SuggestOptions,
  type Suggestion,
} from './analysis/suggest.js';
export { renderHtml, type HtmlReportInput } from './report/html.js';
