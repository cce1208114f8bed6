/**
 * The backend registry (after onnxruntime's js/common): backends with priorities, tried in order
 * for 'auto', each load attempted once and its failure remembered, so `onnx-ptq backends` and the
 * error raised when nothing loads can say why each one is missing.
 *
 * Selection: the `backend` option, else ONNX_PTQ_BACKEND, else 'auto' (native, then wasm, then js).
 * A forced backend that cannot load is an error, never a silent fallback.
 */
import { OnnxPtqError } from '../errors.js';
import type { AddonCandidate, AddonOrigin, Backend, BackendName, BackendRequest } from './types.js';
import { createJsBackend } from './js.js';
import { createNativeBackend } from './native/index.js';
import { createWasmBackend } from './wasm/index.js';
import { defaultAddonPath, defaultWasmPath, prebuiltAddonPath } from './paths.js';

export interface BackendEntry {
  name: BackendName;
  /** Higher is tried first by 'auto'. */
  priority: number;
  load(): Backend;
}

export interface BackendStatus {
  name: BackendName;
  priority: number;
  loaded: boolean;
  /** Why loading failed (absent when loaded or not yet tried). */
  error?: string;
  tried: boolean;
  /** Native: which addon loaded (prebuilt, compiled or a forced path) and why earlier candidates failed. */
  addon?: AddonOrigin;
}

const NAMES: readonly BackendName[] = ['native', 'wasm', 'js'];

export class BackendRegistry {
  private readonly entries = new Map<BackendName, BackendEntry>();
  private readonly loaded = new Map<BackendName, Backend>();
  private readonly failures = new Map<BackendName, string>();

  register(entry: BackendEntry): void {
    this.entries.set(entry.name, entry);
    this.loaded.delete(entry.name);
    this.failures.delete(entry.name);
  }

  /** Loads one backend by name (once); throws OnnxPtqError BACKEND_UNAVAILABLE with the cause. */
  load(name: BackendName): Backend {
    const hit = this.loaded.get(name);
    if (hit) return hit;
    const entry = this.entries.get(name);
    if (!entry) throw new OnnxPtqError('BACKEND_UNAVAILABLE', `backend '${name}' is not registered`);
    const prior = this.failures.get(name);
    if (prior !== undefined) throw new OnnxPtqError('BACKEND_UNAVAILABLE', `backend '${name}' failed to load: ${prior}`);
    try {
      const b = entry.load();
      this.loaded.set(name, b);
      return b;
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      this.failures.set(name, why);
      throw new OnnxPtqError('BACKEND_UNAVAILABLE', `backend '${name}' failed to load: ${why}`, { cause: e });
    }
  }

  /** Resolves a request: a name forces that backend; 'auto' takes the highest priority that loads. */
  get(request: BackendRequest = 'auto'): Backend {
    if (request !== 'auto') {
      if (!NAMES.includes(request)) {
        throw new OnnxPtqError('INVALID_OPTION', `backend must be one of auto, ${NAMES.join(', ')}; got '${String(request)}'`);
      }
      return this.load(request);
    }
    for (const e of this.ordered()) {
      try {
        return this.load(e.name);
      } catch {
        // remembered in failures; try the next one
      }
    }
    const lines = this.ordered().map((e) => `  ${e.name}: ${this.failures.get(e.name) ?? 'not tried'}`);
    throw new OnnxPtqError('BACKEND_UNAVAILABLE', `no backend could be loaded:\n${lines.join('\n')}`);
  }

  /** Tries every backend and reports each one's state. */
  status(): BackendStatus[] {
    return this.ordered().map((e) => {
      try {
        this.load(e.name);
      } catch {
        // reported below
      }
      const error = this.failures.get(e.name);
      const addon = this.loaded.get(e.name)?.addon;
      return {
        name: e.name,
        priority: e.priority,
        loaded: this.loaded.has(e.name),
        tried: true,
        ...(error !== undefined ? { error } : {}),
        ...(addon !== undefined ? { addon } : {}),
      };
    });
  }

  private ordered(): BackendEntry[] {
    return [...this.entries.values()].sort((a, b) => b.priority - a.priority);
  }
}

export interface DefaultRegistryOptions {
  /** One addon file to load, nothing else tried (also ONNX_PTQ_ADDON_PATH). */
  addonPath?: string;
  /** The addon files to try in order; default: the shipped prebuilt, then build/Release. */
  addonCandidates?: readonly AddonCandidate[];
  wasmPath?: string;
}

/** A registry with the three standard backends (paths overridable for tests and packagers). */
export function createDefaultRegistry(opts: DefaultRegistryOptions = {}): BackendRegistry {
  const r = new BackendRegistry();
  // Options given in code win over the environment; the environment over the default search.
  const addon = opts.addonPath ?? opts.addonCandidates ?? process.env.ONNX_PTQ_ADDON_PATH ?? defaultAddonCandidates();
  r.register({ name: 'native', priority: 300, load: () => createNativeBackend(addon) });
  r.register({
    name: 'wasm',
    priority: 200,
    load: () => createWasmBackend(opts.wasmPath ?? process.env.ONNX_PTQ_WASM_PATH ?? defaultWasmPath),
  });
  r.register({ name: 'js', priority: 100, load: () => createJsBackend() });
  return r;
}

/** The prebuilt addon shipped for this platform first, then the one compiled on this machine. */
export function defaultAddonCandidates(): AddonCandidate[] {
  return [
    { kind: 'prebuilt', path: prebuiltAddonPath },
    { kind: 'compiled', path: defaultAddonPath },
  ];
}

let defaultRegistry: BackendRegistry | undefined;

export function getRegistry(): BackendRegistry {
  defaultRegistry ??= createDefaultRegistry();
  return defaultRegistry;
}

/** The backend to use: `name`, else ONNX_PTQ_BACKEND, else 'auto'. */
export function getBackend(name?: BackendRequest): Backend {
  const env = process.env.ONNX_PTQ_BACKEND;
  const request = name ?? (env ? (env as BackendRequest) : 'auto');
  return getRegistry().get(request);
}
