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
