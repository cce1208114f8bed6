// Shape/dtype inference and constant folding, in one topological walk: a node whose inputs are all
// constants is run once and replaced by initializers; a Shape node whose input shape is fully known
// becomes a constant too, so exporter shape subgraphs (Shape -> Gather/Slice -> Concat -> Reshape)
// disappear once the dynamic dimensions are bound.
import type { F32Kernels } from '../backends/kernels-f32.js';
import { OnnxPtqError } from '../errors.js';
import { defaultOps, type OpRegistry } from '../ops/index.js';
import { Attrs, type OpContext, type TypeInfo } from '../ops/types.js';
import type { Tensor } from '../tensor.js';
import { nodeLabel, opsetVersion, type Dim, type Graph, type Model, type Node } from './graph.js';
import { validateNode, validateNodeTypes, validateOutputShape } from './validate-nodes.js';

export interface InferOptions {
  /** Concrete shapes for graph inputs (binds their symbolic dims). */
  inputShapes?: Record<string, readonly number[]>;
  /** Fold constants into initializers (mutates the graph). Default false: inference only. */
  fold?: boolean;
  /** Op implementations (default: the built-in ONNX ops). */
  registry?: OpRegistry;
}

export interface InferResult {
  /** Type of every value that inference could say something about. */
  types: Map<string, TypeInfo>;
  /** Number of nodes folded away. */
  folded: number;
}

/** Op context for `node` in `model` (opset of its domain; default ONNX domain when not imported). */
export function opContext(model: Pick<Model, 'opsetImports'>, node: Node, f32?: F32Kernels): OpContext {
  const opset = opsetVersion(model, node.domain) ?? (node.domain ? 1 : (opsetVersion(model, '') ?? 1));
  return f32 ? { node, attrs: new Attrs(node), opset, f32 } : { node, attrs: new Attrs(node), opset };
}

function isStaticShape(s: Dim[] | undefined): s is number[] {
  return !!s && s.every((d) => typeof d === 'number' && d >= 0);
}

/**
 * Infers value types over `model.graph` and, with `fold`, folds constant subgraphs. The graph must be
 * acyclic (it is re-sorted topologically).
 */
export function inferAndFold(model: Pick<Model, 'opsetImports' | 'graph'>, opts: InferOptions = {}): InferResult {
  const graph = model.graph;
  const registry = opts.registry ?? defaultOps;
  const types = new Map<string, TypeInfo>();
  for (const [name, t] of graph.initializers) types.set(name, { dtype: t.dtype, shape: [...t.dims] });
  for (const v of graph.inputs) {
    if (graph.initializers.has(v.name)) continue;
    const bound = opts.inputShapes?.[v.name];
    types.set(v.name, { dtype: v.dtype, shape: bound ? [...bound] : v.shape ? [...v.shape] : undefined });
  }
  const graphInputs = new Set(graph.inputs.map((v) => v.name));
  let folded = 0;
  const keep: Node[] = [];
  for (const node of graph.topologicalOrder()) {
    const impl = registry.get(node.opType, node.domain);
    const ctx = opContext(model, node);
    const values = node.inputs.map((i) => (i ? graph.initializers.get(i) : undefined));
    // Before anything runs the node (folding, inference, a session's lowering): one validator for
    // every path, so all of them refuse the same models (validate-nodes.ts).
    validateNode(node);
    validateNodeTypes(
      node,
      node.inputs.map((i) => (i ? types.get(i) : undefined)),
      values,
      graphInputs,
    );
    const present = node.inputs.filter((i) => i);
    const allConst = present.every((i) => graph.initializers.has(i));
    if (opts.fold && impl && impl.foldable !== false) {
      let outs: Tensor[] | undefined;
      if (allConst) outs = impl.run(ctx, values);
      else if (node.opType === 'Shape' && !node.domain) {
        const st = types.get(node.inputs[0]!)?.shape;
        // Shape only reads dims: hand it a dims-only stand-in rather than allocating the tensor.
        if (isStaticShape(st)) outs = impl.run(ctx, [{ dims: st, rank: st.length } as unknown as Tensor]);
      }
      if (outs) {
        node.outputs.forEach((o, k) => {
          if (!o) return;
          const t = outs![k];
          if (!t) throw new OnnxPtqError('INTERNAL', `${nodeLabel(node)} produced no output #${k} while folding`);
          graph.initializers.set(o, t);
          types.set(o, { dtype: t.dtype, shape: [...t.dims] });
        });
        folded++;
        continue;
      }
    }
    keep.push(node);
    let outTypes: TypeInfo[] = [];
    if (impl?.inferShape) {
      try {
        outTypes = impl.inferShape({
          ...ctx,
          inputs: node.inputs.map((i) => (i ? types.get(i) : undefined)),
          values,
        });
      } catch {
        // Inference is best effort; run() reports real mismatches with concrete shapes.
        outTypes = [];
      }
    }
    node.outputs.forEach((o, k) => {
      if (!o) return;
      const t = outTypes[k] ?? {};
      validateOutputShape(node, o, t.shape);
      const declared = graph.valueInfo.get(o) ?? graph.outputs.find((v) => v.name === o);
      types.set(o, {
        dtype: t.dtype ?? declared?.dtype,
        shape: t.shape && !t.shape.every((d) => d === null) ? t.shape : (declared?.shape ?? t.shape),
      });
    });
  }
  if (opts.fold) {
    graph.nodes = keep;
    pruneInitializers(graph);
  }
  return { types, folded };
}

/** Drops initializers nothing reads any more (folded intermediates, constants of removed nodes). */
export function pruneInitializers(graph: Graph): void {
  const used = new Set<string>();
  for (const n of graph.nodes) for (const i of n.inputs) used.add(i);
  for (const o of graph.outputs) used.add(o.name);
  for (const v of graph.inputs) used.add(v.name);
  for (const k of [...graph.initializers.keys()]) if (!used.has(k)) graph.initializers.delete(k);
}
