/**
 * The one atomic file writer: data goes to a hidden temporary name next to the target and is
 * renamed over it, so a failed or interrupted run never leaves a half-written file.
 *
 * - On failure every temporary file of the write is removed.
 * - SIGINT and SIGTERM: the first write installs listeners, so a signal that arrives during a
 *   (synchronous) write is handled after it instead of killing the process mid-write (which left
 *   the temporary file behind); the listener removes any temporary file still there and, when no
 *   other listener wants the signal, re-raises it, so the process ends as it would have.
 * - kill -9 cannot be caught: temporary names are unique (pid and random suffix), so a stale one
 *   never blocks a later write, and each write removes the stale ones of dead processes.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { OnnxPtqError } from '../errors.js';

const live = new Set<string>();
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

function removeLive(): void {
  for (const t of live) rmSync(t, { force: true });
  live.clear();
}

function onSignal(sig: NodeJS.Signals): void {
  removeLive();
  process.removeListener(sig, onSignal);
  if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
}

function installHandlers(): void {
  for (const sig of SIGNALS) if (!process.listeners(sig).includes(onSignal)) process.on(sig, onSignal);
  if (!process.listeners('exit').includes(removeLive)) process.on('exit', removeLive);
}

/** `.name.<pid>.<random>.tmp` in the target's folder (the same file system, so rename is atomic). */
export function tempPathFor(path: string): string {
  return join(dirname(resolve(path)), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temporary files of `path` left by processes that no longer run (a kill -9). */
export function removeStaleTemps(path: string): void {
  const dir = dirname(resolve(path));
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (!n.startsWith(prefix) || !n.endsWith('.tmp')) continue;
    const m = /^(\d+)\.[0-9a-f]+\.tmp$/.exec(n.slice(prefix.length));
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) rmSync(join(dir, n), { force: true });
  }
}

/**
 * Writes every file to a temporary name, then renames them in order (put the file that refers to
 * the others last). Throws IO_ERROR naming the target; nothing is left behind on failure. With
 * `createDirs`, missing folders are created (else a missing folder is an error).
 */
export function writeFilesAtomic(files: readonly { path: string; data: string | Uint8Array }[], opts: { createDirs?: boolean } = {}): void {
  installHandlers();
  const temps: string[] = [];
  let current = files[0]?.path ?? '';
  try {
    for (const f of files) {
      current = f.path;
      if (opts.createDirs) mkdirSync(dirname(resolve(f.path)), { recursive: true });
      removeStaleTemps(f.path);
      const tmp = tempPathFor(f.path);
      live.add(tmp);
      temps.push(tmp);
      writeFileSync(tmp, f.data);
    }
    files.forEach((f, i) => {
      current = f.path;
      renameSync(temps[i]!, f.path);
      live.delete(temps[i]!);
    });
  } catch (e) {
    for (const t of temps) {
      rmSync(t, { force: true });
      live.delete(t);
    }
    throw new OnnxPtqError('IO_ERROR', `cannot write '${current}': ${(e as Error).message}`, { cause: e });
  }
}

/** One file; its folder is created when missing (reports, caches). */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  writeFilesAtomic([{ path, data }], { createDirs: true });
}
