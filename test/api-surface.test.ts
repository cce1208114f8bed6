// The public surface: what `import ... from 'onnx-ptq'` and 'onnx-ptq/tools' give, at the type
// level (expectTypeOf: checked by `npm run typecheck`, which compiles the tests) and at run time
// (what the entries export, the onnxruntime-shaped session and Tensor API, and that the main entry
// loads no font code).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, expectTypeOf, it } from 'vitest';
import * as api from '../src/index.js';
import * as tools from '../src/tools.js';
import type { BackendName, BackendRequest, FetchesType, IntegerSessionOptions, Model, RunOptions, SessionOptions } from '../src/index.js';
import { InferenceSession, IntegerSession, OnnxPtqError, Tensor } from '../src/index.js';
import { Graph, makeNode } from '../src/tools.js';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

function addModel(): Model {
  const graph = new Graph({
    name: 'add',
    inputs: [
      { name: 'a', dtype: 'float32', shape: [2] },
      { name: 'b', dtype: 'float32', shape: [2] },
    ],
    outputs: [
      { name: 'sum', dtype: 'float32', shape: [2] },
      { name: 'prod', dtype: 'float32', shape: [2] },
    ],
    nodes: [makeNode('Add', ['a', 'b'], ['sum']), makeNode('Mul', ['a', 'b'], ['prod'])],
  });
  return {
    irVersion: 8,
    opsetImports: [{ domain: '', version: 13 }],
    producerName: '',
    producerVersion: '',
    domain: '',
    modelVersion: 0,
    docString: '',
    metadata: new Map(),
    graph,
  };
}

describe('types of the public surface', () => {
  it('one BackendName (a backend that runs) and BackendRequest (what an option asks for)', () => {
    expectTypeOf<BackendName>().toEqualTypeOf<'native' | 'wasm' | 'js'>();
    expectTypeOf<BackendRequest>().toEqualTypeOf<'auto' | 'native' | 'wasm' | 'js'>();
    expectTypeOf<NonNullable<SessionOptions['backend']>>().toEqualTypeOf<BackendRequest>();
    expectTypeOf<NonNullable<IntegerSessionOptions['backend']>>().toEqualTypeOf<BackendRequest>();
    expectTypeOf<InferenceSession['backendName']>().toEqualTypeOf<BackendName>();
    expectTypeOf<IntegerSession['backendName']>().toEqualTypeOf<BackendName>();
  });

  it('Tensor has type, dims, data, size and release() as onnxruntime', () => {
    expectTypeOf<Tensor['type']>().toEqualTypeOf<Tensor['dtype']>();
    expectTypeOf<Tensor['dims']>().toEqualTypeOf<readonly number[]>();
    expectTypeOf<Tensor['size']>().toEqualTypeOf<number>();
    expectTypeOf<Tensor['release']>().toEqualTypeOf<() => void>();
  });

  it('sessions: run(feeds, fetches?, options?), release(), inputNames/outputNames', () => {
    for (const S of [InferenceSession, IntegerSession]) void S;
    type Run<S extends { run: unknown }> = S['run'];
    expectTypeOf<Run<InferenceSession>>().parameter(1).toEqualTypeOf<FetchesType | RunOptions | undefined>();
    expectTypeOf<Run<InferenceSession>>().parameter(2).toEqualTypeOf<RunOptions | undefined>();
    expectTypeOf<Run<IntegerSession>>().parameter(1).toEqualTypeOf<FetchesType | RunOptions | undefined>();
    expectTypeOf<Run<IntegerSession>>().returns.resolves.toEqualTypeOf<Record<string, Tensor>>();
    expectTypeOf<InferenceSession['release']>().returns.resolves.toBeVoid();
    expectTypeOf<IntegerSession['release']>().returns.resolves.toBeVoid();
    expectTypeOf<InferenceSession['inputNames']>().toEqualTypeOf<string[]>();
    expectTypeOf<IntegerSession['outputNames']>().toEqualTypeOf<string[]>();
    expectTypeOf<FetchesType>().toEqualTypeOf<readonly string[] | Record<string, Tensor | null>>();
  });

  it('internal tools are not in the main entry', () => {
    expectTypeOf(api).not.toHaveProperty('runConformance');
    expectTypeOf(api).not.toHaveProperty('syntheticTextSet');
    expectTypeOf(api).not.toHaveProperty('fixedpoint');
    expectTypeOf(api).not.toHaveProperty('Graph');
    expectTypeOf(tools).toHaveProperty('runConformance');
    expectTypeOf(tools).toHaveProperty('Graph');
  });
});

describe('exports at run time', () => {
  it('the main entry has the user API and none of the tools', () => {
    for (const k of [
      'quantize',
      'validate',
      'analyze',
      'loadModel',
      'saveModel',
      'InferenceSession',
      'IntegerSession',
      'Tensor',
      'OnnxPtqError',
      'getBackend',
    ])
      expect(api, k).toHaveProperty(k);
    expect(api.quantizationInfo(addModel())).toEqual({ format: 'float', qdqNodes: 0, qoperatorNodes: 0 });
    for (const k of [
      'runConformance',
      'formatReport',
      'syntheticTextSet',
      'syntheticTextLabel',
      'fixedpoint',
      'Graph',
      'makeNode',
      'inferAndFold',
      'cloneModel',
    ])
      expect(k in api, k).toBe(false);
  });

  it("'onnx-ptq/tools' has them, and package.json exports the subpath", () => {
    for (const k of [
      'runConformance',
      'formatReport',
      'syntheticTextSet',
      'syntheticPageSet',
      'syntheticTextLabel',
      'fixedpoint',
      'Graph',
      'makeNode',
      'nodeLabel',
      'inferAndFold',
      'cloneModel',
      'cloneGraph',
    ])
      expect(tools, k).toHaveProperty(k);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.exports['./tools']).toEqual({ types: './dist/tools.d.ts', import: './dist/tools.js' });
    expect(pkg.peerDependencies['onnxruntime-node']).toBeDefined();
    expect(pkg.peerDependenciesMeta['onnxruntime-node']).toEqual({ optional: true });
  });
});

describe('onnxruntime-shaped API', () => {
  const feeds = { a: Tensor.float32([1, 2]), b: Tensor.float32([3, 4]) };

  it('Tensor.type is dtype; release() and dispose() leave it usable', () => {
    const t = new Tensor('int8', new Int8Array([1, -2]), [2]);
    expect(t.type).toBe('int8');
    t.release();
    t.dispose();
    expect(Array.from(t.data as Int8Array)).toEqual([1, -2]);
  });

  for (const runInWorker of [false, true]) {
    it(`InferenceSession.run: fetches as names, object (with a pre-allocated output), options, and the old { outputs } (worker ${runInWorker})`, async () => {
      const s = await InferenceSession.create(addModel(), { runInWorker });
      try {
        expect(s.inputNames).toEqual(['a', 'b']);
        expect(s.outputNames).toEqual(['sum', 'prod']);
        expect(Object.keys(await s.run(feeds))).toEqual(['sum', 'prod']);
        expect(Object.keys(await s.run(feeds, { tag: 'x', logSeverityLevel: 3 }))).toEqual(['sum', 'prod']);
        expect(Object.keys(await s.run(feeds, ['prod']))).toEqual(['prod']);
        expect(Object.keys(await s.run(feeds, ['prod'], { tag: 'x' }))).toEqual(['prod']);
        expect(Object.keys(await s.run(feeds, { outputs: ['sum'] }))).toEqual(['sum']);
        const dst = Tensor.float32(new Float32Array(2));
        const r = await s.run(feeds, { sum: dst, prod: null });
        expect(r.sum).toBe(dst);
        expect(Array.from(dst.data as Float32Array)).toEqual([4, 6]);
        expect(Array.from(r.prod!.data as Float32Array)).toEqual([3, 8]);
        await expect(s.run(feeds, ['nope'])).rejects.toMatchObject({ code: 'INVALID_INPUT' });
        await expect(s.run(feeds, { sum: Tensor.float32(new Float32Array(3)) })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
        // an onnxruntime-style tensor object as a feed
        const ortLike = { type: 'float32', data: new Float32Array([1, 1]), dims: [2] };
        expect(Array.from((await s.run({ a: ortLike, b: ortLike }, ['sum'])).sum!.data as Float32Array)).toEqual([2, 2]);
        expect(s.runSync(feeds, ['sum']).sum).toBeDefined();
      } finally {
        await s.release();
      }
      await expect(s.run(feeds)).rejects.toBeInstanceOf(OnnxPtqError);
    });
  }

  it('IntegerSession.run takes the same fetches and options, on its worker too', async () => {
    const w = await IntegerSession.create(addModel());
    try {
      expect(Object.keys(await w.run(feeds, ['prod']))).toEqual(['prod']);
      const dst = Tensor.float32(new Float32Array(2));
      expect((await w.run(feeds, { sum: dst })).sum).toBe(dst);
      expect(Array.from(dst.data as Float32Array)).toEqual([4, 6]);
    } finally {
      await w.release();
    }
    const s = await IntegerSession.create(addModel(), { runInWorker: false });
    expect(['native', 'wasm', 'js']).toContain(s.backendName);
    expect(s.backendName).toBe(s.backend.name);
    expect(Object.keys(await s.run(feeds, ['prod']))).toEqual(['prod']);
    expect(Object.keys(s.runSync(feeds, { prod: null }, { tag: 't' }))).toEqual(['prod']);
    expect(Object.keys(await s.run(feeds, {}))).toEqual(['sum', 'prod']);
    expect(() => s.runSync(feeds, ['a'])).toThrow(/unknown output 'a'/);
    await s.release();
    expect(() => s.runSync(feeds)).toThrow(/released/);
  });
});

/**
 * Imports `entry` in a fresh node process with a module-resolution hook that logs every URL it
 * resolves (ESM) and lists the CommonJS cache afterwards (opentype.js is CommonJS, reached through
 * createRequire), then runs `after` (JS source) and returns every module URL or path seen.
 */
function modulesLoaded(entry: string, after = '', tsx = false): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'onnx-ptq-surface-'));
  const log = join(dir, 'resolved.txt');
  writeFileSync(
    join(dir, 'hook.mjs'),
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, r.url + '\\n');
  return r;
}`,
  );
  writeFileSync(
    join(dir, 'register.mjs'),
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hook.mjs')).href)});`,
  );
  writeFileSync(
    join(dir, 'main.mjs'),
    `import { createRequire } from 'node:module';
const m = await import(${JSON.stringify(pathToFileURL(entry).href)});
${after}
const cjs = Object.keys(createRequire(import.meta.url).cache);
process.stdout.write(JSON.stringify(cjs));`,
  );
  const args = [...(tsx ? ['--import', 'tsx'] : []), '--import', pathToFileURL(join(dir, 'register.mjs')).href, join(dir, 'main.mjs')];
  const out = execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, ONNX_PTQ_BACKEND: 'js' } });
  const resolved = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
  return [...resolved, ...(JSON.parse(out) as string[])];
}

describe("import 'onnx-ptq' loads no font code", () => {
  const fonts = (mods: string[]) => mods.filter((m) => /opentype|synthetic-text/.test(m));

  it('the source entry (through tsx): no opentype.js, no synthetic-text module', () => {
    const mods = modulesLoaded(join(root, 'src', 'index.ts'), '', true);
    expect(mods.some((m) => m.includes('/src/tensor.ts'))).toBe(true); // the hook sees the entry's modules
    expect(fonts(mods)).toEqual([]);
  }, 60_000);

  it.skipIf(!existsSync(join(root, 'dist', 'tools.js')))(
    'the built entry dist/index.js: none either; dist/tools.js drawing text does load it (the check sees it)',
    () => {
      const mods = modulesLoaded(join(root, 'dist', 'index.js'));
      expect(mods.some((m) => m.endsWith('/dist/tensor.js'))).toBe(true);
      expect(fonts(mods)).toEqual([]);
      const fontsDir = process.env.ONNX_PTQ_FONTS || '/usr/share/fonts/truetype/dejavu';
      if (!existsSync(join(fontsDir, 'DejaVuSans.ttf'))) return;
      const withTools = modulesLoaded(join(root, 'dist', 'tools.js'), 'm.syntheticTextSet(1, 0);');
      expect(withTools.some((m) => /opentype\.js/.test(m))).toBe(true);
    },
    60_000,
  );
});
