/**
 * Graph passes (after PPQ: one pass per topic, a class with typed options and documented defaults).
 * A pass validates the graph and its options before it changes anything, edits the model in place
 * through the Graph's named methods, and returns a report of what it changed, per layer.
 */
import { OnnxPtqError } from '../errors.js';
import type { Graph, Model, Node } from '../ir/graph.js';
import { nodeLabel } from '../ir/graph.js';
import { Tensor } from '../tensor.js';

export interface PassReport {
  pass: string;
  /** Number of sites the pass rewrote. */
  changed: number;
  /** One line per layer touched (shown with --verbose). */
  details: string[];
  /** Sites the pass could not handle, each with why (always shown). */
  skipped?: string[];
}

export abstract class GraphPass<O extends object> {
  abstract readonly name: string;
  readonly options: Readonly<O>;

  constructor(defaults: O, options: Partial<O> = {}) {
    for (const k of Object.keys(options)) {
      if (!(k in defaults))
        throw new OnnxPtqError(
          'INVALID_OPTION',
          `${this.constructor.name}: unknown option '${k}' (known: ${Object.keys(defaults).join(', ')})`,
        );
    }
    this.options = { ...defaults, ...stripUndefined(options) };
  }

  /** Rewrites `model` in place. */
  abstract apply(model: Model): PassReport;

  protected fail(message: string): never {
    throw new OnnxPtqError('PASS_ERROR', `${this.name}: ${message}`);
  }
}

function stripUndefined<T extends object>(o: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// ---- small helpers shared by passes ----

/** A float32 initializer's data, or undefined when `name` is not a float32 initializer. */
export function floatInit(g: Graph, name: string | undefined): Tensor | undefined {
  if (!name) return undefined;
  const t = g.initializers.get(name);
  return t && t.dtype === 'float32' ? t : undefined;
}

/** The only node reading `value`, when exactly one does and it is not a graph output. */
export function soleConsumer(g: Graph, value: string): Node | undefined {
  if (g.outputs.some((o) => o.name === value)) return undefined;
  const c = g.consumersOf(value);
  return c.length === 1 ? c[0] : undefined;
}

export function intAttr(node: Node, name: string, dflt: number): number {
  const a = node.attributes.get(name);
  return a && a.type === 'int' ? a.value : dflt;
}

export function floatAttr(node: Node, name: string, dflt: number): number {
  const a = node.attributes.get(name);
  return a && a.type === 'float' ? a.value : dflt;
}

/**
 * The value of a scalar float32 initializer (shape [] or [1]), or undefined. The fusions match only
 * these: a one-element constant of higher rank ([1,1,1,1]) could broadcast the output to a higher
 * rank than x, which the fused op would not, and the passes have no shapes to rule that out.
 */
export function scalarConst(g: Graph, name: string | undefined): number | undefined {
  const t = floatInit(g, name);
  return t && t.size === 1 && t.rank <= 1 ? (t.data as Float32Array)[0] : undefined;
}

/** `v` equals `want` to float32 precision (relative 1e-6): exporters write the constants as float32. */
export const nearConst = (v: number | undefined, want: number): boolean => v !== undefined && Math.abs(v - want) <= 1e-6 * Math.abs(want);

/** The other input of a binary node when one input is `x`. */
export function otherThan(n: Node, x: string): string | undefined {
  if (n.inputs.length !== 2) return undefined;
  if (n.inputs[0] === x) return n.inputs[1];
  if (n.inputs[1] === x) return n.inputs[0];
  return undefined;
}

/** The single input that is not a scalar constant equal to `c`, for a commutative binary node. */
export function operandWithConst(g: Graph, n: Node, c: number): string | undefined {
  if (n.inputs.length !== 2) return undefined;
  if (nearConst(scalarConst(g, n.inputs[1]), c)) return n.inputs[0];
  if (nearConst(scalarConst(g, n.inputs[0]), c)) return n.inputs[1];
  return undefined;
}

/** Replaces (or adds) a float32 initializer under a fresh name and returns the name. */
export function putInit(g: Graph, base: string, data: Float32Array, dims: readonly number[]): string {
  const name = g.uniqueName(base);
  g.initializers.set(name, new Tensor('float32', data, dims));
  return name;
}

/** Removes initializers nobody reads any more (Graph.readNames says who reads). */
export function dropUnusedInits(g: Graph): void {
  const used = g.readNames();
  const removed = new Set<string>();
  for (const k of [...g.initializers.keys()]) {
    if (!used.has(k)) {
      g.initializers.delete(k);
      removed.add(k);
    }
  }
  // Old exporters also list initializers as graph inputs: those go with them.
  g.inputs = g.inputs.filter((v) => !removed.has(v.name));
}

export { nodeLabel };
