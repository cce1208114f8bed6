/**
 * Why a model with dynamic input dimensions fails at one size and not another. Detection networks
 * (PP-OCR det, FPN/UNet-style) downsample by 2^k and upsample back, then add or concatenate the two
 * paths: an input size that is not a multiple of 2^k gives two branches of different sizes, and the
 * failure surfaces as a SHAPE_MISMATCH at some Add deep inside (PP-OCRv4 det: `p2o.Add.248` for a
 * 48 x 192 input), far from the cause.
 *
 * When a run with dynamic (symbolic) input dims fails with SHAPE_MISMATCH, the session calls
 * `divisibilityHint`: it runs the model on zero inputs whose dynamic non-batch dims are m and 3m, for
 * m = 2, 4, ..., 128, and the first m at which both run is the multiple the model needs (3m tests an
 * odd multiple, so a power of two alone does not pass by luck). These probes are small and only made
 * on the error path. The hint names the input, its dims, the dims that must divide by m, and the
 * nearest sizes that do. A model that fails at every probe gets the input dims only.
 */
import type { ValueInfo } from '../ir/graph.js';
import { Tensor, allocData, sizeOf } from '../tensor.js';

const PROBES = [2, 4, 8, 16, 32, 64, 128];

/** The dynamic axes (symbolic or unknown, excluding the batch axis 0) of inputs of rank 3 or more. */
function dynamicAxes(inputs: readonly ValueInfo[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const v of inputs) {
    if (!v.shape || v.shape.length < 3) continue;
    const axes = v.shape.map((d, i) => (i > 0 && typeof d !== 'number' ? i : -1)).filter((i) => i > 0);
    if (axes.length) out.set(v.name, axes);
  }
  return out;
}

function probeFeeds(feeds: ReadonlyMap<string, Tensor>, axes: Map<string, number[]>, m: number): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, t] of feeds) {
    const dims = [...t.dims];
    for (const a of axes.get(name) ?? []) dims[a] = m;
    out[name] = axes.has(name) ? new Tensor(t.dtype, allocData(t.dtype, sizeOf(dims)), dims) : t;
  }
  return out;
}

/**
 * A sentence to append to a SHAPE_MISMATCH message, or undefined when no input has dynamic dims.
 * `tryRun` runs the model on the given feeds and says whether it ran (it must not call back here).
 */
export function divisibilityHint(
  inputs: readonly ValueInfo[],
  feeds: ReadonlyMap<string, Tensor>,
  tryRun: (feeds: Record<string, Tensor>) => boolean,
): string | undefined {
  const axes = dynamicAxes(inputs);
  if (axes.size === 0) return undefined;
  const given = [...axes].map(([name, ax]) => {
    const t = feeds.get(name);
    const v = inputs.find((i) => i.name === name)!;
    return { name, ax, dims: t ? [...t.dims] : [], symbols: ax.map((a) => v.shape![a] ?? '?') };
  });
  const desc = given.map((g) => `input '${g.name}' is [${g.dims.join(', ')}] (dynamic axes ${g.ax.join(', ')})`).join('; ');
  let multiple: number | undefined;
  for (const m of PROBES) {
    if (tryRun(probeFeeds(feeds, axes, m)) && tryRun(probeFeeds(feeds, axes, 3 * m))) {
      multiple = m;
      break;
    }
  }
  if (multiple === undefined)
    return `${desc}; the same error occurs at every size tried (${PROBES.join(', ')} and 3x), so it is not a divisibility constraint of those axes`;
  const m = multiple;
  const bad = given
    .flatMap((g) => g.ax.map((a, k) => ({ name: g.name, axis: a, symbol: g.symbols[k], size: g.dims[a] ?? NaN })))
    .filter((d) => d.size % m !== 0);
  const need = given.map((g) => `'${g.name}' axes ${g.ax.join(', ')}`).join(', ');
  const fix = bad
    .map(
      (d) => `axis ${d.axis} of '${d.name}' is ${d.size}: use ${Math.max(m, Math.floor(d.size / m) * m)} or ${Math.ceil(d.size / m) * m}`,
    )
    .join('; ');
  return `${desc}; this model needs its dynamic dims (${need}) to be multiples of ${m} (the sizes tried: ${m} and ${3 * m} run)${bad.length ? `; ${fix}` : ''}`;
}
