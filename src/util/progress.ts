// Progress bars for long work (calibration, validation, analysis): stderr, on a TTY only.

let progressEnabled = true;
/** Turns progress bars off (the CLI's --quiet) or back on; they only ever draw on a TTY. */
export function setProgressEnabled(on: boolean): void {
  progressEnabled = on;
}

/** A one-line progress bar on stderr, only on a TTY. */
export function progress(label: string): { tick(done: number, total?: number): void; end(): void } {
  const tty = progressEnabled && process.stderr.isTTY === true;
  let last = 0;
  return {
    tick(done, total) {
      if (!tty) return;
      const now = Date.now();
      if (now - last < 100 && done !== total) return;
      last = now;
      const bar = total ? `[${'#'.repeat(Math.round((20 * done) / total)).padEnd(20)}] ${done}/${total}` : `${done}`;
      process.stderr.write(`\r${label} ${bar}`);
    },
    end() {
      if (tty) process.stderr.write('\n');
    },
  };
}
