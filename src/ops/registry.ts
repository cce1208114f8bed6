import type { OpImpl } from './types.js';

/** Op implementations keyed by `domain::opType` ('' is the ONNX domain). */
export class OpRegistry {
  private readonly ops = new Map<string, OpImpl>();
  register(opType: string, impl: OpImpl, domain = ''): void {
    this.ops.set(`${normDomain(domain)}::${opType}`, impl);
  }
  registerAll(table: Record<string, OpImpl>, domain = ''): void {
    for (const [k, v] of Object.entries(table)) this.register(k, v, domain);
  }
  get(opType: string, domain = ''): OpImpl | undefined {
    return this.ops.get(`${normDomain(domain)}::${opType}`);
  }
  has(opType: string, domain = ''): boolean {
    return this.ops.has(`${normDomain(domain)}::${opType}`);
  }
  list(): string[] {
    return [...this.ops.keys()].map((k) => (k.startsWith('::') ? k.slice(2) : k)).sort();
  }
}

export function normDomain(d: string): string {
  return d === 'ai.onnx' ? '' : d;
}
