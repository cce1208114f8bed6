// Progress on stderr for long work (calibration, quantization, validation, analysis): a bar redrawn
// in place on a TTY; on a pipe or a log file (CI, a Kubernetes Job), one line every ~2 s with the
// count, the rate and the ETA, since \r-redrawn bars turn into one unreadable line there. --quiet
// (setProgressEnabled(false)) silences both; stdout (--json) is never touched.

let progressEnabled = true;
// Periodic lines on a non-TTY stderr are the CLI's (it turns them on): a library must not write to
// a server's logs unasked. The TTY bar is drawn either way, as before.
let nonTtyLines = false;
let intervalMs = Number(process.env.ONNX_PTQ_PROGRESS_INTERVAL_MS) || 2000;

/** Turns progress output off (the CLI's --quiet) or back on. */
export function setProgressEnabled(on: boolean): void {
  progressEnabled = on;
}

/** Turns on the periodic progress lines when stderr is not a TTY (the CLI does; off in the library). */
export function setProgressLines(on: boolean): void {
  nonTtyLines = on;
}

/** Milliseconds between two progress lines when stderr is not a TTY (default 2000; ONNX_PTQ_PROGRESS_INTERVAL_MS). */
export function setProgressInterval(ms: number): void {
  intervalMs = ms;
}

function secs(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export interface Progress {
  tick(done: number, total?: number): void;
  end(): void;
}

/** A progress reporter for `label`; `total` (if known) gives the bar and the ETA. */
export function progress(label: string, total?: number): Progress {
  const tty = process.stderr.isTTY === true;
  const t0 = Date.now();
  let last = t0;
  let drawn = false;
  let lines = 0;
  let n = 0;
  const status = (done: number, now: number) => {
    const el = (now - t0) / 1000;
    const rate = el > 0 ? done / el : 0;
    const eta = total && rate > 0 ? secs((total - done) / rate) : undefined;
    return `${total ? `${done}/${total}` : `${done}`} samples, ${rate >= 10 ? rate.toFixed(0) : rate.toFixed(2)}/s${eta !== undefined ? `, ETA ${eta}` : ''}`;
  };
  return {
    tick(done, t) {
      n = done;
      if (t) total = t;
      if (!progressEnabled) return;
      const now = Date.now();
      if (tty) {
        if (now - last < 100 && done !== total) return;
        last = now;
        const bar = total ? `[${'#'.repeat(Math.round((20 * Math.min(done, total)) / total)).padEnd(20)}] ` : '';
        process.stderr.write(`\r${label} ${bar}${status(done, now)}   `);
        drawn = true;
      } else if (nonTtyLines && now - last >= intervalMs) {
        last = now;
        process.stderr.write(`${label}: ${status(done, now)}\n`);
        lines++;
      }
    },
    end() {
      if (!progressEnabled) return;
      if (tty && drawn) process.stderr.write('\n');
      // A log that showed progress also shows where it ended.
      else if (!tty && lines > 0) process.stderr.write(`${label}: done, ${status(n, Date.now())}\n`);
    },
  };
}
