// The demo's download path, against a local HTTP server on loopback serving the fixture files:
// downloaded into the cache with their sha256 checked, then found in the cache; a corrupted file is refused.
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ASSETS, locate, sha256 } from '../src/analysis/demo-assets.js';
import { OnnxPtqError } from '../src/errors.js';
import { fixture, fixturesDir } from './fixtures.js';

const haveAll = Object.values(DEMO_ASSETS).every((a) => fixture(...a.fixture.split('/')) !== undefined);

describe.skipIf(!haveAll)('demo assets', () => {
  let server: Server,
    base = '';
  const files = new Map<string, Uint8Array>();
  beforeAll(async () => {
    for (const a of Object.values(DEMO_ASSETS)) files.set(a.file, readFileSync(join(fixturesDir, a.fixture)));
    files.set('bad/mnist-8.onnx', Uint8Array.from(files.get('mnist-8.onnx')!.subarray(0, 1000)));
    server = createServer((req, res) => {
      const body = files.get(decodeURIComponent((req.url ?? '/').slice(1)));
      if (!body) {
        res.statusCode = 404;
        res.end();
        return;
      }
      res.end(Buffer.from(body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('the recorded sha256 are those of the fixture files', () => {
    for (const a of Object.values(DEMO_ASSETS)) expect(sha256(readFileSync(join(fixturesDir, a.fixture))), a.file).toBe(a.sha256);
  });

  it('downloads into the cache with the sha256 checked, then uses the cache', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'onnx-ptq-cache-'));
    for (const a of Object.values(DEMO_ASSETS)) {
      const got = await locate(a, { fixtureDirs: [], cacheDir: cache, downloadBase: base });
      expect(got.source).toBe('download');
      expect(sha256(readFileSync(got.path))).toBe(a.sha256);
      expect((await locate(a, { fixtureDirs: [], cacheDir: cache, downloadBase: base })).source).toBe('cache');
    }
    expect((await locate(DEMO_ASSETS.model, { fixtureDirs: [fixturesDir], cacheDir: cache })).source).toBe('fixtures');
  });

  it('refuses a file whose sha256 does not match, leaving nothing in the cache; offline names the folders', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'onnx-ptq-cache-'));
    const err = await locate(DEMO_ASSETS.model, { fixtureDirs: [], cacheDir: cache, downloadBase: `${base}/bad` }).catch((e) => e);
    expect(err).toBeInstanceOf(OnnxPtqError);
    expect(err.message).toMatch(/sha256/);
    expect(readdirSync(cache)).toEqual([]);
    const off = await locate(DEMO_ASSETS.model, { fixtureDirs: [], cacheDir: join(cache, 'x'), offline: true }).catch((e) => e);
    expect(off).toBeInstanceOf(OnnxPtqError);
    expect(existsSync(join(cache, 'x'))).toBe(false);
  });
});
