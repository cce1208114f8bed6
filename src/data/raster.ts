/**
 * A small anti-aliased path rasterizer for font outlines (opentype.js path commands, y down):
 * curves are flattened into line segments, then each pixel's coverage is the share of its
 * `supersample` x `supersample` sub-pixel centres inside the outline under the non-zero winding
 * rule (TrueType's fill rule). Coverage is quantized to 1/supersample^2; 4 (16 levels) is what the
 * synthetic text data needs, and keeps it exact and deterministic (no float accumulation order).
 */
import { OnnxPtqError } from '../errors.js';

export interface PathCommand {
  type: 'M' | 'L' | 'Q' | 'C' | 'Z';
  x?: number;
  y?: number;
  x1?: number;
  y1?: number;
  x2?: number;
  y2?: number;
}

/** Largest distance (pixels) between a flattened curve and the true one. */
const FLATNESS = 0.01;

/**
 * Line segments (x0, y0, x1, y1) in sub-pixel units; horizontal ones dropped (they cross no row).
 * Each sub-path is closed (a line back to its start), as TrueType and canvas fill do. A curve is cut
 * into n pieces with n from the second-derivative bound of linear interpolation, |B''| / (8 n^2) <=
 * FLATNESS: for a quadratic |B''| = 2 |p0 - 2 p1 + p2|, for a cubic at most 6 max(|p0 - 2 p1 + p2|,
 * |p1 - 2 p2 + p3|).
 */
function flatten(commands: readonly PathCommand[], ss: number): Float64Array {
  const seg: number[] = [];
  let cx = 0,
    cy = 0,
    sx = 0,
    sy = 0;
  const line = (x0: number, y0: number, x1: number, y1: number) => {
    if (y0 !== y1) seg.push(x0 * ss, y0 * ss, x1 * ss, y1 * ss);
  };
  const pieces = (d2: number) => Math.min(256, Math.max(1, Math.ceil(Math.sqrt(d2 / (8 * FLATNESS)))));
  const close = () => {
    if (cx !== sx || cy !== sy) line(cx, cy, sx, sy);
    cx = sx;
    cy = sy;
  };
  for (const c of commands) {
    const x = c.x ?? 0,
      y = c.y ?? 0;
    switch (c.type) {
      case 'M':
        close();
        cx = sx = x;
        cy = sy = y;
        break;
      case 'L':
        line(cx, cy, x, y);
        cx = x;
        cy = y;
        break;
      case 'Q': {
        const x1 = c.x1 ?? 0,
          y1 = c.y1 ?? 0;
        const n = pieces(2 * Math.hypot(cx - 2 * x1 + x, cy - 2 * y1 + y));
        let px = cx,
          py = cy;
        for (let i = 1; i <= n; i++) {
          const t = i / n,
            u = 1 - t;
          const qx = u * u * cx + 2 * u * t * x1 + t * t * x,
            qy = u * u * cy + 2 * u * t * y1 + t * t * y;
          line(px, py, qx, qy);
          px = qx;
          py = qy;
        }
        cx = x;
        cy = y;
        break;
      }
      case 'C': {
        const x1 = c.x1 ?? 0,
          y1 = c.y1 ?? 0,
          x2 = c.x2 ?? 0,
          y2 = c.y2 ?? 0;
        const n = pieces(6 * Math.max(Math.hypot(cx - 2 * x1 + x2, cy - 2 * y1 + y2), Math.hypot(x1 - 2 * x2 + x, y1 - 2 * y2 + y)));
        let px = cx,
          py = cy;
        for (let i = 1; i <= n; i++) {
          const t = i / n,
            u = 1 - t;
          const bx = u * u * u * cx + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t * t * t * x;
          const by = u * u * u * cy + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t * t * t * y;
          line(px, py, bx, by);
          px = bx;
          py = by;
        }
        cx = x;
        cy = y;
        break;
      }
      case 'Z':
        close();
        break;
      default:
        throw new OnnxPtqError('INVALID_ARGUMENT', `rasterizePath: unknown path command '${String((c as PathCommand).type)}'`);
    }
  }
  close();
  return Float64Array.from(seg);
}

/**
 * Coverage in [0, 1] of a `width` x `height` pixel grid by the outline `commands` (pixel units,
 * y down, the pixel (i, j) spanning [i, i+1) x [j, j+1)). Open sub-paths are closed.
 */
export function rasterizePath(commands: readonly PathCommand[], width: number, height: number, supersample = 4): Float32Array {
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0 && width * height <= 1 << 24)) {
    throw new OnnxPtqError(
      'INVALID_ARGUMENT',
      `rasterizePath: width and height must be positive integers (at most 2^24 pixels), got ${width}x${height}`,
    );
  }
  if (!(Number.isInteger(supersample) && supersample >= 1 && supersample <= 16)) {
    throw new OnnxPtqError('INVALID_ARGUMENT', `rasterizePath: supersample must be an integer in [1, 16], got ${supersample}`);
  }
  const ss = supersample;
  const seg = flatten(commands, ss);
  const nseg = seg.length / 4;
  const counts = new Uint16Array(width * height);
  const W = width * ss,
    H = height * ss;
  const xs = new Float64Array(nseg),
    dirs = new Int8Array(nseg),
    order: number[] = [];
  for (let row = 0; row < H; row++) {
    const y = row + 0.5;
    let n = 0;
    for (let s = 0; s < nseg; s++) {
      const y0 = seg[4 * s + 1],
        y1 = seg[4 * s + 3];
      // Half-open in y so a vertex shared by two segments is counted once.
      if ((y0 <= y && y1 > y) || (y1 <= y && y0 > y)) {
        const x0 = seg[4 * s],
          x1 = seg[4 * s + 2];
        xs[n] = x0 + ((y - y0) / (y1 - y0)) * (x1 - x0);
        dirs[n] = y1 > y0 ? 1 : -1;
        n++;
      }
    }
    if (n === 0) continue;
    order.length = n;
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => xs[a] - xs[b]);
    const base = Math.floor(row / ss) * width;
    let wind = 0;
    for (let i = 0; i < n - 1; i++) {
      wind += dirs[order[i]];
      if (wind === 0) continue;
      // Sub-pixel columns whose centres lie in [xa, xb).
      const a = Math.max(0, Math.ceil(xs[order[i]] - 0.5)),
        b = Math.min(W, Math.ceil(xs[order[i + 1]] - 0.5));
      for (let col = a; col < b; col++) counts[base + Math.floor(col / ss)]++;
    }
  }
  const out = new Float32Array(width * height);
  const inv = 1 / (ss * ss);
  for (let i = 0; i < out.length; i++) out[i] = counts[i] * inv;
  return out;
}
