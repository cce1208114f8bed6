/**
 * Float session fusion (as onnxruntime's ConvActivationFusion): a Conv whose output only a Relu, or
 * a Clip with constant bounds, reads becomes one com.microsoft FusedConv, so the clamp runs in the
 * convolution kernel instead of as a pass over the output. The fused node writes the activation's
 * output name; the Conv's own output disappears, so it fires only when that value is no graph
 * output (the session holds fetched values as graph outputs while it fuses). Float results are
 * the same: clamp(conv) either way.
 */
import { makeNode, type Graph, type Model, type Node } from '../ir/graph.js';
import { floatInit, soleConsumer } from '../passes/pass.js';

/** Fuses every site in place; returns how many. */
export function fuseConvActivations(model: Model): number {
  const g = model.graph;
  let n = 0;
  for (const conv of [...g.nodes]) {
    if (conv.opType !== 'Conv' || conv.domain !== '' || conv.outputs.length !== 1) continue;
    const act = soleConsumer(g, conv.outputs[0]!);
    if (act?.domain !== '' || act.inputs[0] !== conv.outputs[0]) continue;
    const bounds = activationBounds(g, act);
    if (!bounds) continue;
    const fused = makeNode(
      'FusedConv',
      [...conv.inputs],
      [act.outputs[0]!],
      Object.fromEntries(conv.attributes),
      g.uniqueName(`${conv.name || conv.outputs[0]}_${act.opType}`),
      'com.microsoft',
    );
    fused.attributes.set('activation', { type: 'string', value: bounds.kind });
    if (bounds.kind === 'Clip') fused.attributes.set('activation_params', { type: 'floats', value: [bounds.min, bounds.max] });
    g.replaceNode(act, fused);
    g.removeNode(conv);
    n++;
  }
  return n;
}

function activationBounds(g: Graph, act: Node): { kind: 'Relu' | 'Clip'; min: number; max: number } | undefined {
  if (act.opType === 'Relu') return { kind: 'Relu', min: 0, max: Infinity };
  if (act.opType !== 'Clip') return undefined;
  // Opset 11+: optional min/max inputs (constant scalars); earlier: attributes.
  let min = -Infinity,
    max = Infinity;
  const a = (name: string) => act.attributes.get(name);
  const amin = a('min'),
    amax = a('max');
  if (amin?.type === 'float') min = amin.value;
  if (amax?.type === 'float') max = amax.value;
  for (const [i, set] of [
    [1, (v: number) => (min = v)],
    [2, (v: number) => (max = v)],
  ] as const) {
    const name = act.inputs[i];
    if (!name) continue;
    const t = floatInit(g, name);
    if (t?.size !== 1) return undefined;
    set((t.data as Float32Array)[0]!);
  }
  if (!(min <= max)) return undefined;
  return { kind: 'Clip', min, max };
}
