/**
 * Horizontal layer split, after PPQ's HorizontalLayerSplitPass: a layer whose weight has a few
 * outliers is written as two layers reading the same input, W = W1 + W2, and an Add:
 *     y = Conv(x, W, b)  ->  y = Add(Conv(x, W1, b), Conv(x, W2))
 * For the weights with |w| > value_threshold:
 *  - method 'balance': W1 = W2 = w / 2;
 *  - method 'random':  W1 = u w, W2 = (1 - u) w with u uniform in [0.25, 0.75) from a seeded generator
 *    (deterministic: `seed`);
 * the other weights stay in W1 (W2 holds 0 there). The range of each half is then about half the
 * original, so per-tensor quantization noise power, scale^2 / 12 (Widrow), falls by about 75% per
 * tensor. The float function is preserved (up to float rounding of the sum).
 * Layers: Conv and Gemm with a constant float32 weight. Only `interested_layers` are split (null or
 * empty: none).
 */
import type { Model, Node } from '../ir/graph.js';
import { makeNode } from '../ir/graph.js';
import { GraphPass, floatInit, nodeLabel, putInit, type PassReport } from './pass.js';

export interface LayerSplitOptions {
  /** Names of the layers to split; null or empty: none. Default null. */
  interested_layers: string[] | null;
  /** Weights with a magnitude above this are split. Default 2 (PPQ's default). */
  value_threshold: number;
  /** 'balance' (halves) or 'random' (seeded split). Default 'balance'. */
  method: 'balance' | 'random';
  /** Seed of method 'random'. Default 1. */
  seed: number;
  /** Report every split layer. Default false. */
  verbose: boolean;
}

export class LayerSplitPass extends GraphPass<LayerSplitOptions> {
  readonly name = 'layer-split';

  constructor(options: Partial<LayerSplitOptions> = {}) {
    super({ interested_layers: null, value_threshold: 2, method: 'balance', seed: 1, verbose: false }, options);
    const o = this.options;
    if (o.interested_layers !== null && (!Array.isArray(o.interested_layers) || o.interested_layers.some((s) => typeof s !== 'string')))
      this.fail(`option 'interested_layers' must be null or a list of node names`);
    if (typeof o.value_threshold !== 'number' || !(o.value_threshold >= 0) || !Number.isFinite(o.value_threshold))
      this.fail(`option 'value_threshold' must be a finite number >= 0, got ${JSON.stringify(o.value_threshold)}`);
    if (o.method !== 'balance' && o.method !== 'random')
      this.fail(`option 'method' must be 'balance' or 'random', got ${JSON.stringify(o.method)}`);
    if (typeof o.seed !== 'number' || !Number.isInteger(o.seed))
      this.fail(`option 'seed' must be an integer, got ${JSON.stringify(o.seed)}`);
    if (typeof o.verbose !== 'boolean') this.fail(`option 'verbose' must be true or false`);
  }

  apply(model: Model): PassReport {
    const g = model.graph;
    const o = this.options;
    const report: PassReport = { pass: this.name, changed: 0, details: [] };
    const wanted = o.interested_layers ?? [];
    const targets: Node[] = [];
    for (const name of wanted) {
      const n = g.nodes.find((m) => m.name === name);
      if (!n) this.fail(`option 'interested_layers' names node '${name}', which is not in the graph`);
      if (
        n.domain !== '' ||
        (n.opType !== 'Conv' && n.opType !== 'Gemm') ||
        !floatInit(g, n.inputs[1]) ||
        (n.inputs[2] && !floatInit(g, n.inputs[2]))
      ) {
        this.fail(`node ${nodeLabel(n)} (option 'interested_layers') is not a Conv or Gemm with a constant float32 weight`);
      }
      targets.push(n);
    }
    let state = o.seed >>> 0 || 1;
    const rnd = () => {
      // xorshift32: reproducible across platforms
      state ^= state << 13;
      state >>>= 0;
      state ^= state >>> 17;
      state ^= state << 5;
      state >>>= 0;
      return state / 4294967296;
    };
    for (const n of targets) {
      const w = floatInit(g, n.inputs[1])!;
      const d = w.data as Float32Array;
      const w1 = new Float32Array(d.length),
        w2 = new Float32Array(d.length);
      let split = 0,
        before = 0,
        r1 = 0,
        r2 = 0;
      for (let i = 0; i < d.length; i++) {
        const v = d[i];
        before = Math.max(before, Math.abs(v));
        if (Math.abs(v) > o.value_threshold) {
          const u = o.method === 'balance' ? 0.5 : 0.25 + 0.5 * rnd();
          w1[i] = Math.fround(v * u);
          w2[i] = Math.fround(v - w1[i]); // exact complement: w1 + w2 == v in float32 when representable
          split++;
        } else w1[i] = v;
        r1 = Math.max(r1, Math.abs(w1[i]));
        r2 = Math.max(r2, Math.abs(w2[i]));
      }
      if (split === 0) {
        if (o.verbose) report.details.push(`${nodeLabel(n)}: no weight above ${o.value_threshold}, not split`);
        continue;
      }
      const label = n.name || n.outputs[0];
      const n1 = putInit(g, `${n.inputs[1]}_split_a`, w1, w.dims);
      const n2 = putInit(g, `${n.inputs[1]}_split_b`, w2, w.dims);
      const ya = g.uniqueName(`${n.outputs[0]}_split_a`),
        yb = g.uniqueName(`${n.outputs[0]}_split_b`);
      const attrs = Object.fromEntries(n.attributes);
      const a = makeNode(n.opType, [n.inputs[0], n1, ...n.inputs.slice(2)], [ya], attrs, g.uniqueName(`${label}_split_a`));
      const b = makeNode(n.opType, [n.inputs[0], n2], [yb], attrs, g.uniqueName(`${label}_split_b`));
      const add = makeNode('Add', [ya, yb], [n.outputs[0]], {}, g.uniqueName(`${label}_split_add`));
      const oldW = n.inputs[1];
      g.replaceNode(n, a, b, add);
      if (!g.nodes.some((m) => m.inputs.includes(oldW))) g.initializers.delete(oldW);
      report.changed++;
      if (o.verbose)
        report.details.push(
          `${nodeLabel(n)}: ${split} of ${d.length} weights above ${o.value_threshold} split (${o.method}); max |W| ${before.toPrecision(4)} -> ${r1.toPrecision(4)} + ${r2.toPrecision(4)}`,
        );
    }
    return report;
  }
}
