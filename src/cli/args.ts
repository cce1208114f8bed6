/** Small shared helpers for the commands' argument parsing (node:util parseArgs underneath). */
import { parseArgs } from 'node:util';
import { OnnxPtqError } from '../errors.js';

type OptionSpec = { type: 'boolean' | 'string'; short?: string; multiple?: boolean; default?: string | boolean | string[] };

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** parseArgs in strict mode with --help/-h added; unknown options are OnnxPtqError INVALID_OPTION. */
export function parse(argv: string[], options: Record<string, OptionSpec>, allowPositionals = true): Parsed {
  try {
    const r = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
    return { values: r.values as Parsed['values'], positionals: r.positionals };
  } catch (e) {
    throw new OnnxPtqError('INVALID_OPTION', (e as Error).message);
  }
}
