/**
 * The demo's assets (mnist-8 and the MNIST test set): found in ONNX_PTQ_FIXTURES, ../shared/fixtures
 * (from the working directory or the package), or the cache folder (ONNX_PTQ_CACHE, default
 * ~/.cache/onnx-ptq); otherwise downloaded from their public homes into the cache, each file checked
 * against its sha256 before it is used (a mismatch is deleted, never used). ONNX_PTQ_DOWNLOAD_BASE
 * replaces every public home by one base URL serving the files by name (tests use a loopback server).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OnnxPtqError } from '../errors.js';
import { writeFileAtomic } from '../report/write.js';

export interface Asset {
  /** Path under a fixtures folder. */
  fixture: string;
  /** File name in the cache and under ONNX_PTQ_DOWNLOAD_BASE. */
  file: string;
  sha256: string;
  urls: string[];
}

export const DEMO_ASSETS: Record<'model' | 'images' | 'labels', Asset> = {
  model: {
    fixture: 'models/mnist-8/model.onnx',
    file: 'mnist-8.onnx',
    sha256: '2f06e72de813a8635c9bc0397ac447a601bdbfa7df4bebc278723b958831c9bf',
    urls: [
      'https://github.com/onnx/models/raw/main/validated/vision/classification/mnist/model/mnist-8.onnx',
      'https://media.githubusercontent.com/media/onnx/models/main/validated/vision/classification/mnist/model/mnist-8.onnx',
    ],
  },
  images: {
    fixture: 'data/mnist/t10k-images-idx3-ubyte.gz',
    file: 't10k-images-idx3-ubyte.gz',
    sha256: '167310007f03058885c7e95e6c0b19c20de5c7fd3031f4cbdadc9014a523d80b',
    urls: [
      'https://ossci-datasets.s3.amazonaws.com/mnist/t10k-images-idx3-ubyte.gz',
      'https://storage.googleapis.com/cvdf-datasets/mnist/t10k-images-idx3-ubyte.gz',
    ],
  },
  labels: {
    fixture: 'data/mnist/t10k-labels-idx1-ubyte.gz',
    file: 't10k-labels-idx1-ubyte.gz',
    sha256: 'fc607395669ec21321ea83e4b82c0544b7e8e63ff5b34337c06bc0a17cc0da3c',
    urls: [
      'https://ossci-datasets.s3.amazonaws.com/mnist/t10k-labels-idx1-ubyte.gz',
      'https://storage.googleapis.com/cvdf-datasets/mnist/t10k-labels-idx1-ubyte.gz',
    ],
  },
};

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function cacheDir(): string {
  return resolve(process.env.ONNX_PTQ_CACHE ?? join(homedir(), '.cache', 'onnx-ptq'));
}

/** Fixture folders to look in, in order. */
export function fixtureDirs(): string[] {
  const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const dirs = [process.env.ONNX_PTQ_FIXTURES, join(process.cwd(), '..', 'shared', 'fixtures'), join(pkg, '..', 'shared', 'fixtures')];
  return [...new Set(dirs.filter((d): d is string => !!d).map((d) => resolve(d)))];
}

export interface Located {
  path: string;
  source: 'fixtures' | 'cache' | 'download';
}

/** Finds an asset locally, or downloads it into the cache (sha256 checked). */
export interface LocateOptions {
  offline?: boolean;
  log?: (s: string) => void;
  /** Default fixtureDirs(). */
  fixtureDirs?: string[];
  /** Default cacheDir(). */
  cacheDir?: string;
  /** Default ONNX_PTQ_DOWNLOAD_BASE. */
  downloadBase?: string;
}

export async function locate(a: Asset, opts: LocateOptions = {}): Promise<Located> {
  const dirs = opts.fixtureDirs ?? fixtureDirs();
  const cache = opts.cacheDir ?? cacheDir();
  for (const d of dirs) {
    const p = join(d, a.fixture);
    if (existsSync(p)) return { path: p, source: 'fixtures' };
  }
  const cached = join(cache, a.file);
  if (existsSync(cached)) {
    if (sha256(readFileSync(cached)) === a.sha256) return { path: cached, source: 'cache' };
    rmSync(cached, { force: true });
  }
  if (opts.offline)
    throw new OnnxPtqError(
      'IO_ERROR',
      `${a.file} is not in ${dirs.join(', ') || '(no fixture folders)'} nor in the cache ${cache}, and downloads are off`,
    );
  const base = opts.downloadBase ?? process.env.ONNX_PTQ_DOWNLOAD_BASE;
  const urls = base ? [`${base.replace(/\/$/, '')}/${a.file}`] : a.urls;
  const errors: string[] = [];
  for (const url of urls) {
    try {
      opts.log?.(`downloading ${url}`);
      // A stalled server must not hang the demo: 5 minutes covers the 10 MB of MNIST on a slow link.
      const res = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(300_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      const got = sha256(bytes);
      if (got !== a.sha256) throw new Error(`sha256 ${got} is not the expected ${a.sha256}`);
      writeFileAtomic(cached, bytes);
      return { path: cached, source: 'download' };
    } catch (e) {
      errors.push(`${url}: ${(e as Error).message}`);
    }
  }
  throw new OnnxPtqError(
    'IO_ERROR',
    `cannot get ${a.file}: ${errors.join('; ')}. Put it in ${cache} (or set ONNX_PTQ_FIXTURES to a fixtures folder with ${a.fixture})`,
  );
}
