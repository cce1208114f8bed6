import { OnnxPtqError, check } from '../errors.js';
import type { DataType, Tensor } from '../tensor.js';
import { validateNode } from './validate-nodes.js';

/** A dimension: a number when known, a symbol (dim_param) when named, null when unknown. */
export type Dim = number | string | null;

/** Type of a value: dtype (undefined when not a supported tensor type) and shape (undefined when unknown rank). */
export interface ValueInfo {
  name: string;
  dtype?: DataType;
  shape?: Dim[];
  docString?: string;
}

export type Attribute =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: Tensor }
  | { type: 'graph'; value: Graph }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: number[] }
  | { type: 'strings'; value: string[] }
  | { type: 'tensors'; value: Tensor[] }
  | { type: 'graphs'; value: Graph[] }
  // Attributes the engine never interprets (sparse tensors, type protos, ref_attr_name): kept as the
  // decoded protobuf object so that save() writes them back unchanged.
  | { type: 'opaque'; value: unknown };

export interface Node {
  name: string;
  opType: string;
  /** '' (or 'ai.onnx') is the default ONNX domain. */
  domain: string;
  /** '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attributes: Map<string, Attribute>;
  docString?: string;
}

/** A node for messages: its name when it has one, else its type and first output. */
export function nodeLabel(node: Node): string {
  return node.name ? `${node.opType} node '${node.name}'` : `${node.opType} node producing '${node.outputs[0] ?? '?'}'`;
}

export function makeNode(
  opType: string,
  inputs: string[],
  outputs: string[],
  attrs: Record<string, Attribute> = {},
  name = '',
  domain = '',
): Node {
  return { name, opType, domain, inputs, outputs, attributes: new Map(Object.entries(attrs)) };
}

/**
 * A computation graph: nodes (kept in a valid execution order after topologicalSort), constant
 * initializers, typed inputs/outputs and optional value_info. Edits go through the named methods so
 * callers never leave a half-edited graph; validate() checks the invariants.
 */
export class Graph {
  name: string;
  nodes: Node[];
  initializers: Map<string, Tensor>;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  valueInfo: Map<string, ValueInfo>;
  docString?: string;

  constructor(init: Partial<Pick<Graph, 'name' | 'nodes' | 'initializers' | 'inputs' | 'outputs' | 'valueInfo' | 'docString'>> = {}) {
    this.name = init.name ?? '';
    this.nodes = init.nodes ?? [];
    this.initializers = init.initializers ?? new Map();
    this.inputs = init.inputs ?? [];
    this.outputs = init.outputs ?? [];
    this.valueInfo = init.valueInfo ?? new Map();
    this.docString = init.docString;
  }

  /** Graph inputs that are not initializers: what a caller must feed. */
  get runtimeInputs(): ValueInfo[] {
    return this.inputs.filter((v) => !this.initializers.has(v.name));
  }

  /** The node producing `value`, if any (graph inputs and initializers have none). */
  producerOf(value: string): Node | undefined {
    for (const n of this.nodes) if (n.outputs.includes(value)) return n;
    return undefined;
  }

  /** Nodes reading `value`. */
  consumersOf(value: string): Node[] {
    return this.nodes.filter((n) => n.inputs.includes(value));
  }

  /** Appends `node`, or inserts it at `index`. */
  insertNode(node: Node, index = this.nodes.length): Node {
    check(index >= 0 && index <= this.nodes.length, 'INVALID_ARGUMENT', `insert index ${index} out of range`);
    this.nodes.splice(index, 0, node);
    return node;
  }

  /** Inserts `node` right after `anchor` (which must be in the graph). */
  insertAfter(anchor: Node, node: Node): Node {
    return this.insertNode(node, this.indexOf(anchor) + 1);
  }

  /** Inserts `node` right before `anchor`. */
  insertBefore(anchor: Node, node: Node): Node {
    return this.insertNode(node, this.indexOf(anchor));
  }

  /** Replaces `old` by `replacements` at the same position. */
  replaceNode(old: Node, ...replacements: Node[]): void {
    this.nodes.splice(this.indexOf(old), 1, ...replacements);
  }

  /**
   * Removes `node`. With `rewireTo`, every reader of the node's first output reads `rewireTo` instead
   * (for removing pass-through nodes such as Identity or Dropout).
   */
  removeNode(node: Node, rewireTo?: string): void {
    this.nodes.splice(this.indexOf(node), 1);
    if (rewireTo !== undefined) {
      const out = node.outputs[0];
      if (out !== undefined) this.renameUses(out, rewireTo);
    }
  }

  /** Makes every node input and graph output named `from` refer to `to`. */
  renameUses(from: string, to: string): void {
    for (const n of this.nodes) n.inputs = n.inputs.map((i) => (i === from ? to : i));
    for (const o of this.outputs) {
      if (o.name === from) {
        // A graph output keeps its public name: insert an Identity rather than renaming the output.
        this.nodes.push(makeNode('Identity', [to], [from], {}, `${from}_identity`));
      }
    }
  }

  /** A value name not used anywhere in the graph, starting with `base`. */
  /**
   * Every value this graph reads: node inputs, graph outputs, and the outer-scope values its
   * subgraphs (If/Loop/Scan bodies) read. An initializer not in the set is dead weight.
   */
  readNames(): Set<string> {
    const used = new Set<string>();
    for (const o of this.outputs) used.add(o.name);
    for (const n of this.nodes) {
      for (const i of n.inputs) if (i) used.add(i);
      for (const a of n.attributes.values()) {
        const subs = a.type === 'graph' ? [a.value] : a.type === 'graphs' ? a.value : [];
        for (const sg of subs) for (const v of sg.readNames()) used.add(v);
      }
    }
    return used;
  }

  uniqueName(base: string): string {
    // Passes call this per node they add: a scan is several times cheaper than building the set,
    // which only a taken name needs.
    if (!this.hasValueName(base)) return base;
    const used = this.allValueNames();
    for (let i = 1; ; i++) if (!used.has(`${base}_${i}`)) return `${base}_${i}`;
  }

  /** Whether `name` is a graph input, an initializer or a node input or output. */
  hasValueName(name: string): boolean {
    if (this.initializers.has(name)) return true;
    for (const v of this.inputs) if (v.name === name) return true;
    for (const n of this.nodes) {
      for (const i of n.inputs) if (i === name) return true;
      for (const o of n.outputs) if (o === name) return true;
    }
    return false;
  }

  allValueNames(): Set<string> {
    const s = new Set<string>();
    for (const v of this.inputs) s.add(v.name);
    for (const k of this.initializers.keys()) s.add(k);
    for (const n of this.nodes) {
      for (const i of n.inputs) s.add(i);
      for (const o of n.outputs) s.add(o);
    }
    return s;
  }

  /**
   * Nodes in an order where every node comes after the producers of its inputs (Kahn's algorithm,
   * stable: keeps the stored order where possible). Throws INVALID_MODEL naming the nodes on a cycle.
   */
  topologicalOrder(): Node[] {
    const producer = new Map<string, number>();
    this.nodes.forEach((n, i) => {
      for (const o of n.outputs) if (o) producer.set(o, i);
    });
    const indeg = new Array<number>(this.nodes.length).fill(0);
    const readers: number[][] = this.nodes.map(() => []);
    this.nodes.forEach((n, i) => {
      const deps = new Set<number>();
      for (const inp of n.inputs) {
        const p = inp ? producer.get(inp) : undefined;
        if (p !== undefined) deps.add(p);
      }
      for (const p of deps) {
        readers[p]!.push(i);
        indeg[i]!++;
      }
    });
    // A min-heap would keep the order perfectly stable; a sorted ready list is enough for graph sizes here.
    const ready: number[] = [];
    indeg.forEach((d, i) => {
      if (d === 0) ready.push(i);
    });
    const order: Node[] = [];
    while (ready.length) {
      ready.sort((a, b) => b - a);
      const i = ready.pop()!;
      order.push(this.nodes[i]!);
      for (const r of readers[i]!) if (--indeg[r]! === 0) ready.push(r);
    }
    if (order.length !== this.nodes.length) {
      const stuck = this.nodes.filter((_, i) => indeg[i]! > 0).map(nodeLabel);
      throw new OnnxPtqError(
        'INVALID_MODEL',
        `graph '${this.name}' has a cycle through ${stuck.slice(0, 5).join(', ')}${stuck.length > 5 ? ', ...' : ''}`,
      );
    }
    return order;
  }

  /** Reorders `nodes` topologically in place (see topologicalOrder). */
  sortTopologically(): this {
    this.nodes = this.topologicalOrder();
    return this;
  }

  /**
   * Checks the graph invariants: one producer per value, every node input produced by a node, a
   * graph input or an initializer, every graph output produced, no cycle. `outer` lists values of
   * enclosing graphs visible to a subgraph. Each node's arity and attributes are checked too
   * (validate-nodes.ts), so every loader, session and pass refuses the same bad nodes.
   */
  validate(outer: ReadonlySet<string> = new Set()): void {
    const defined = new Set<string>(outer);
    for (const v of this.inputs) defined.add(v.name);
    for (const k of this.initializers.keys()) defined.add(k);
    const produced = new Set<string>();
    for (const n of this.nodes) {
      check(n.opType, 'INVALID_MODEL', () => `a node in graph '${this.name}' has no op_type`);
      validateNode(n);
      for (const o of n.outputs) {
        if (!o) continue;
        check(!produced.has(o), 'INVALID_MODEL', () => `value '${o}' is produced twice (again by ${nodeLabel(n)})`);
        produced.add(o);
      }
    }
    for (const n of this.nodes) {
      for (const i of n.inputs) {
        check(
          !i || defined.has(i) || produced.has(i),
          'INVALID_MODEL',
          () => `${nodeLabel(n)} reads '${i}', which no node, graph input or initializer provides (dangling input)`,
        );
      }
    }
    for (const o of this.outputs) {
      check(defined.has(o.name) || produced.has(o.name), 'INVALID_MODEL', () => `graph output '${o.name}' is not produced by any node`);
    }
    this.topologicalOrder();
  }

  private indexOf(node: Node): number {
    const i = this.nodes.indexOf(node);
    check(i >= 0, 'INVALID_ARGUMENT', () => `${nodeLabel(node)} is not in graph '${this.name}'`);
    return i;
  }
}

export interface OpsetImport {
  domain: string;
  version: number;
}

/** A model: the graph plus everything ModelProto carries around it. */
export interface Model {
  irVersion: number;
  opsetImports: OpsetImport[];
  producerName: string;
  producerVersion: string;
  domain: string;
  modelVersion: number;
  docString: string;
  /** metadata_props, in file order. */
  metadata: Map<string, string>;
  graph: Graph;
  /** Model-local functions and training info, kept as decoded protobuf objects for save(). */
  extra?: { functions?: unknown[]; trainingInfo?: unknown[] };
}

/** The opset version of `domain` ('' and 'ai.onnx' are the same domain). */
export function opsetVersion(model: Pick<Model, 'opsetImports'>, domain = ''): number | undefined {
  const d = domain === 'ai.onnx' ? '' : domain;
  for (const o of model.opsetImports) if ((o.domain === 'ai.onnx' ? '' : o.domain) === d) return o.version;
  return undefined;
}
