/**
 * A bias-correction probe of Conv, the definition of convProbeSumsF32 (opq_conv_probe_sums_f32,
 * native/f32-probe/f32-conv-probe.cc runs the same loops): the per-output-channel sums over every
 * output position of Conv(x, delta) without bias, from x alone (src/ptq/bias-correction.ts derives
 * it). Conv is linear in x, so sum_pos y_m = sum_{j,k} delta[m, j, k] * S[j, k], with S[j, k] the sum
 * of input channel j over the positions kernel tap k visits (padding adds 0). Geometry over a 3-D
 * view (1-D and 2-D padded with unit leading axes).
 *
 * S per input plane, all in double: (3-D only) window row sums over axis 0, as sumRowsF32 defines
 * them, skipped when that axis is one row, one tap, no pad (its sums would be a copy); then, over
 * the plane's rows and columns: each row's sum per residue class of its columns (mod the column
 * stride); for each row tap, those row sums added over the rows the tap reads, and the columns near
 * either end of the plane summed over the same rows; each tap's window is then its class's sum minus
 * the columns the window leaves out at either end (padding, stride remainders). So the plane is read
 * once, plus its edge columns once per row tap, instead of once per row tap. Then, per output
 * channel, a dot product with delta. The order of every addition is fixed here, so that the sums
 * are the same on every backend.
 */
import { sumRowsF32Ref, tapHi, tapLo } from './sum-rows.js';

/** Fields of opq_conv_probe_sums_f32's geo (in the C order): N C M group, then I, K, O, strides, dilations, begin pads (3 each). */
export const CONV_PROBE_FIELDS = 22;

export interface ConvProbeGeom {
  N: number;
  C: number;
  M: number;
  group: number;
  /** Input sizes, kernel, output sizes, strides, dilations, begin pads of the 3-D view. */
  I: [number, number, number];
  K: [number, number, number];
  O: [number, number, number];
  strides: [number, number, number];
  dilations: [number, number, number];
  pads: [number, number, number];
}

export function convProbeFields(g: ConvProbeGeom): Int32Array {
  return Int32Array.of(g.N, g.C, g.M, g.group, ...g.I, ...g.K, ...g.O, ...g.strides, ...g.dilations, ...g.pads);
}

export function convProbeGeom(f: Int32Array): ConvProbeGeom {
  const v = Array.from(f);
  const t = (i: number) => [v[i]!, v[i + 1]!, v[i + 2]!] as [number, number, number];
  return { N: v[0]!, C: v[1]!, M: v[2]!, group: v[3]!, I: t(4), K: t(7), O: t(10), strides: t(13), dilations: t(16), pads: t(19) };
}

/** Axis 0 is a copy (one row, one tap, no pad): its row sums are skipped. */
function trivialAxis0(g: ConvProbeGeom): boolean {
  return trivial(g.I[0], g.K[0], g.O[0], g.pads[0]);
}
const trivial = (i0: number, k0: number, o0: number, p0: number) => i0 === 1 && k0 === 1 && o0 === 1 && p0 === 0;

/**
 * Doubles of the workspace: S, axis 0's sums unless trivial, every row's class sums, one row tap's
 * class sums and edge column sums, and the tap tables (first row and row count per row tap; first
 * and last column and their class per column tap).
 */
export function convProbeWorkSize(f: Int32Array): number {
  const [N, C, , , I0, I1, I2, K0, K1, K2, O0, , , , , S2, , , , P0] = f as unknown as number[] as number[];
  return (
    C! * K0! * K1! * K2! +
    (trivial(I0!, K0!, O0!, P0!) ? 0 : N! * C! * K0! * I1! * I2!) +
    N! * C! * K0! * I1! * S2! +
    S2! +
    I2! +
    2 * K1! +
    3 * K2!
  );
}

/** The columns taps leave out: [0, left) and (right, n), from the taps of the last axis that read anything. */
interface ColumnTaps {
  /** Per tap: the first and last column its window reads, or -1 when it reads none. */
  first: Int32Array;
  last: Int32Array;
  left: number;
  right: number;
}

function columnTaps(n: number, K: number, O: number, s: number, d: number, p: number): ColumnTaps {
  const first = new Int32Array(K).fill(-1),
    last = new Int32Array(K).fill(-1);
  let left = 0,
    right = n - 1;
  for (let k = 0; k < K; k++) {
    const off = k * d - p,
      lo = tapLo(off, s),
      hi = tapHi(n, O, off, s);
    if (hi <= lo) continue;
    first[k] = lo * s + off;
    last[k] = (hi - 1) * s + off;
    left = Math.max(left, first[k]!);
    right = Math.min(right, last[k]!);
  }
  return { first, last, left, right };
}

/** sums[m] (M doubles) of the probe; work: convProbeWorkSize(convProbeFields(g)) doubles. */
export function convProbeSumsF32Ref(g: ConvProbeGeom, x: Float32Array, delta: Float32Array, sums: Float64Array, work: Float64Array): void {
  const [I0, I1, I2] = g.I,
    [K0, K1, K2] = g.K,
    [O0, O1, O2] = g.O,
    [s0, s1, s2] = g.strides,
    [d0, d1, d2] = g.dilations,
    [p0, p1, p2] = g.pads;
  const planes = g.N * g.C,
    ks = K0 * K1 * K2,
    C = g.C;
  let at = 0;
  const take = (n: number) => work.subarray(at, (at += n));
  const S = take(C * ks).fill(0);
  let src: Float32Array | Float64Array = x;
  if (!trivialAxis0(g)) {
    const t1 = take(planes * K0 * I1 * I2);
    if (t1.length > 0) sumRowsF32Ref(x, { planes, I: I0, inner: I1 * I2, K: K0, O: O0, stride: s0, pad: p0, dilation: d0 }, t1);
    src = t1;
  }
  const rs = take(planes * K0 * I1 * s2),
    ts = take(s2),
    cs = take(I2);
  const cols = columnTaps(I2, K2, O2, s2, d2, p2);
  for (let a = 0; a < planes; a++)
    for (let k0 = 0; k0 < K0; k0++) {
      const plane = (a * K0 + k0) * I1 * I2;
      const rsp = (a * K0 + k0) * I1 * s2;
      for (let i1 = 0; i1 < I1; i1++) classSums(src, plane + i1 * I2, I2, s2, rs, rsp + i1 * s2);
      const to = (a % C) * ks + k0 * K1 * K2;
      for (let k1 = 0; k1 < K1; k1++) {
        const off = k1 * d1 - p1,
          lo = tapLo(off, s1),
          rows = tapHi(I1, O1, off, s1) - lo;
        if (rows <= 0) continue;
        const r0 = lo * s1 + off;
        // The tap's rows: their class sums, and their edge columns.
        for (let r = 0; r < s2; r++) {
          let t = 0;
          for (let j = 0; j < rows; j++) t += rs[rsp + (r0 + j * s1) * s2 + r]!;
          ts[r] = t;
        }
        for (let e = 0; e < I2; e++) {
          if (e === cols.left && cols.right + 1 > e) e = cols.right + 1;
          if (e >= I2) break;
          let c = 0;
          for (let j = 0; j < rows; j++) c += src[plane + (r0 + j * s1) * I2 + e]!;
          cs[e] = c;
        }
        for (let k2 = 0; k2 < K2; k2++) {
          const first = cols.first[k2]!,
            last = cols.last[k2]!;
          if (first < 0) continue;
          const r = first % s2;
          let v = ts[r]!;
          for (let e = r; e < first; e += s2) v -= cs[e]!;
          for (let e = last + s2; e < I2; e += s2) v -= cs[e]!;
          S[to + k1 * K2 + k2]! += v;
        }
      }
    }
  const len = (C / g.group) * ks,
    perGroup = g.M / g.group;
  for (let m = 0; m < g.M; m++) sums[m] = dot(delta, m * len, S, Math.floor(m / perGroup) * len, len);
}

/**
 * Sums of a row t[at + i], i < n, per residue class mod s, into cls[to + r], in double: class r's
 * members t[at + r + j*s] (j ascending) in four chains (j mod 4), added as (c0 + c1) + (c2 + c3).
 */
function classSums(t: Float32Array | Float64Array, at: number, n: number, s: number, cls: Float64Array, to: number): void {
  for (let r = 0; r < s; r++) {
    const m = r < n ? Math.floor((n - 1 - r) / s) + 1 : 0;
    let c0 = 0,
      c1 = 0,
      c2 = 0,
      c3 = 0,
      j = 0;
    const base = at + r;
    for (; j + 4 <= m; j += 4) {
      c0 += t[base + j * s]!;
      c1 += t[base + (j + 1) * s]!;
      c2 += t[base + (j + 2) * s]!;
      c3 += t[base + (j + 3) * s]!;
    }
    if (j < m) c0 += t[base + j * s]!;
    if (j + 1 < m) c1 += t[base + (j + 1) * s]!;
    if (j + 2 < m) c2 += t[base + (j + 2) * s]!;
    cls[to + r] = c0 + c1 + (c2 + c3);
  }
}

/** sum of a[i + j] * b[k + j], j < n: four chains (j mod 4; the tail into the first), (s0 + s1) + (s2 + s3). */
function dot(a: Float32Array, i: number, b: Float64Array, k: number, n: number): number {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0,
    j = 0;
  for (; j + 4 <= n; j += 4) {
    s0 += a[i + j]! * b[k + j]!;
    s1 += a[i + j + 1]! * b[k + j + 1]!;
    s2 += a[i + j + 2]! * b[k + j + 2]!;
    s3 += a[i + j + 3]! * b[k + j + 3]!;
  }
  for (; j < n; j++) s0 += a[i + j]! * b[k + j]!;
  return s0 + s1 + (s2 + s3);
}

let scratch = new Float64Array(0);
/** A workspace of at least n doubles for the js and native backends: grown, never shrunk (one JS thread uses it at a time). */
export function probeWork(n: number): Float64Array {
  if (scratch.length < n) scratch = new Float64Array(Math.max(n, 2 * scratch.length));
  return scratch;
}
