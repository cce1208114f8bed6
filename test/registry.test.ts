// Backend selection: priorities, fallback when native cannot load, forced backends, and the
// error that lists why every backend failed.
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackendRegistry, createDefaultRegistry, getBackend } from '../src/backends/registry.js';
import { createJsBackend } from '../src/backends/js.js';
import { OnnxPtqError } from '../src/errors.js';
import { defaultAddonPath } from '../src/backends/paths.js';

function caught(fn: () => unknown): OnnxPtqError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OnnxPtqError);
    return e as OnnxPtqError;
  }
  throw new Error('expected an OnnxPtqError');
}

describe('backend registry', () => {
  const saved = process.env.ONNX_PTQ_BACKEND;
  afterEach(() => {
    if (saved === undefined) delete process.env.ONNX_PTQ_BACKEND;
    else process.env.ONNX_PTQ_BACKEND = saved;
  });

  it('auto picks native first when it loads, and reports its dispatch', () => {
    const r = createDefaultRegistry();
    const b = r.get('auto');
    expect(b.name).toBe('native');
    expect(b.variants).toContain('ref');
    expect(b.variants).toContain(b.dispatch.qgemm);
  });

  it('falls back to wasm when the native addon cannot be loaded, and remembers why', () => {
    const r = createDefaultRegistry({ addonPath: '/nonexistent/onnxptq.node' });
    expect(r.get('auto').name).toBe('wasm');
    const st = r.status();
    expect(st.map((s) => s.name)).toEqual(['native', 'wasm', 'js']);
    expect(st[0].loaded).toBe(false);
    expect(st[0].error).toMatch(/\/nonexistent\/onnxptq\.node/);
    expect(st[1].loaded).toBe(true);
  });

  it('falls back when the addon file exists but is not a loadable library', () => {
    const dir = mkdtempSync(join(tmpdir(), 'opq-'));
    const fake = join(dir, 'onnxptq.node');
    writeFileSync(fake, 'not an ELF file');
    const r = createDefaultRegistry({ addonPath: fake });
    expect(r.get().name).toBe('wasm');
    expect(r.status()[0].error).toBeTruthy();
  });

  it('prefers a prebuilt addon that loads, and says so', () => {
    const r = createDefaultRegistry({
      addonCandidates: [
        { kind: 'prebuilt', path: defaultAddonPath },
        { kind: 'compiled', path: '/nonexistent/c.node' },
      ],
    });
    expect(r.get().name).toBe('native');
    const native = r.status()[0];
    expect(native.addon).toEqual({ kind: 'prebuilt', path: defaultAddonPath, fallbacks: [] });
  });

  it('a corrupt prebuilt falls back to the compiled addon, and the reason is kept', () => {
    const dir = mkdtempSync(join(tmpdir(), 'opq-'));
    const bad = join(dir, 'onnxptq.node');
    writeFileSync(bad, 'not an ELF file');
    const r = createDefaultRegistry({
      addonCandidates: [
        { kind: 'prebuilt', path: bad },
        { kind: 'compiled', path: defaultAddonPath },
      ],
    });
    expect(r.get().name).toBe('native');
    const addon = r.status()[0].addon!;
    expect(addon.kind).toBe('compiled');
    expect(addon.fallbacks).toHaveLength(1);
    expect(addon.fallbacks[0]).toMatchObject({ kind: 'prebuilt', path: bad });
    expect(addon.fallbacks[0].error).toBeTruthy();
  });

  it('a corrupt prebuilt and no compiled addon: wasm, with both reasons in the native error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'opq-'));
    const bad = join(dir, 'onnxptq.node');
    writeFileSync(bad, 'not an ELF file');
    const r = createDefaultRegistry({
      addonCandidates: [
        { kind: 'prebuilt', path: bad },
        { kind: 'compiled', path: '/nonexistent/c.node' },
      ],
    });
    expect(r.get().name).toBe('wasm');
    const err = r.status()[0].error!;
    expect(err).toMatch(/prebuilt addon .*onnxptq\.node failed to load/);
    expect(err).toMatch(/addon not built: \/nonexistent\/c\.node/);
  });

  it('a forced backend that cannot load is an error, not a silent fallback', () => {
    const r = createDefaultRegistry({ addonPath: '/nonexistent/onnxptq.node' });
    const e = caught(() => r.get('native'));
    expect(e.code).toBe('BACKEND_UNAVAILABLE');
    expect(e.message).toMatch(/native.*nonexistent/);
    // the failure is remembered: asking again gives the same reason without retrying
    expect(caught(() => r.get('native')).message).toBe(e.message);
  });

  it('lists every backend and its failure when none loads', () => {
    const r = createDefaultRegistry({ addonPath: '/nonexistent/a.node', wasmPath: '/nonexistent/b.wasm' });
    r.register({
      name: 'js',
      priority: 100,
      load: () => {
        throw new Error('js disabled for this test');
      },
    });
    const e = caught(() => r.get());
    expect(e.code).toBe('BACKEND_UNAVAILABLE');
    expect(e.message).toMatch(/native: .*a\.node/);
    expect(e.message).toMatch(/wasm: .*b\.wasm/);
    expect(e.message).toMatch(/js: js disabled for this test/);
  });

  it('orders by priority, not registration order', () => {
    const r = new BackendRegistry();
    r.register({ name: 'js', priority: 1, load: createJsBackend });
    r.register({
      name: 'wasm',
      priority: 5,
      load: () => {
        throw new Error('no');
      },
    });
    expect(r.get().name).toBe('js');
    expect(r.status().map((s) => s.name)).toEqual(['wasm', 'js']);
  });

  it('ONNX_PTQ_BACKEND forces a backend; the option overrides it; bad names are refused', () => {
    process.env.ONNX_PTQ_BACKEND = 'js';
    expect(getBackend().name).toBe('js');
    expect(getBackend('wasm').name).toBe('wasm');
    process.env.ONNX_PTQ_BACKEND = 'gpu';
    expect(caught(() => getBackend()).code).toBe('INVALID_OPTION');
  });
});
