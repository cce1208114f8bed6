/**
 * A bias-correction probe of Conv, the definition of convProbeSumsF32 (opq_conv_probe_sums_f32,
 * native/f32-stats/f32-conv-probe.cc runs the same loops): the per-output-channel sums over every
 * output position of Conv(x, delta) without bias, from x alone (src/ptq/bias-correction.ts derives
 * it). Conv is linear in x, so sum_pos y_m = sum_{j,k} delta[m, j, k] * S[j, k], with S[j, k] the sum
 * of input channel j over the positions kernel tap k visits (padding adds 0). Geometry over a 3-D
 * view (1-D and 2-D padded with unit leading axes).
 *
 * S in three steps, all in double: window row sums over axis 0 (skipped when that axis is one row,
 * one tap, no pad: its sums would be a copy) and axis 1, each element one chain over the rows
 * (sumRowsF32's definition); then along the last axis, each tap's window as its residue class's sum
 * (mod the stride) minus the members the window leaves out at either end, so a row costs one pass
 * plus its edges instead of one pass per tap; then, per output channel, a dot product with delta.
 * The order of every addition is fixed here, so that the sums are the same on every backend.
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
  return g.I[0] === 1 && g.K[0] === 1 && g.O[0] === 1 && g.pads[0] === 0;
}

/** Doubles of the workspace: S, the last axis' rows, their class sums, and axis 0's sums unless trivial. */
export function convProbeWorkSize(g: ConvProbeGeom): number {
  const planes = g.N * g.C,
    ks = g.K[0] * g.K[1] * g.K[2],
    rows = planes * g.K[0] * g.K[1];
  return g.C * ks + rows * g.I[2] + rows * g.strides[2] + (trivialAxis0(g) ? 0 : planes * g.K[0] * g.I[1] * g.I[2]);
}

/** sums[m] (M doubles) of the probe; work: convProbeWorkSize(g) doubles. */
export function convProbeSumsF32Ref(g: ConvProbeGeom, x: Float32Array, delta: Float32Array, sums: Float64Array, work: Float64Array): void {
  const [I0, I1, I2] = g.I,
    [K0, K1, K2] = g.K,
    [O0, O1, O2] = g.O,
    [s0, s1, s2] = g.strides,
    [d0, d1, d2] = g.dilations,
    [p0, p1, p2] = g.pads;
  const planes = g.N * g.C,
    kk = K0 * K1,
    ks = kk * K2,
    R = planes * kk,
    C = g.C;
  const S = work.subarray(0, C * ks).fill(0);
  const t2 = work.subarray(C * ks, C * ks + R * I2);
  const cls = work.subarray(C * ks + R * I2, C * ks + R * I2 + R * s2);
  const axis1 = { planes: planes * K0, I: I1, inner: I2, K: K1, O: O1, stride: s1, pad: p1, dilation: d1 };
  if (trivialAxis0(g)) {
    if (R * I2 > 0) sumRowsF32Ref(x, axis1, t2);
  } else {
    const t1 = work.subarray(C * ks + R * I2 + R * s2, C * ks + R * I2 + R * s2 + planes * K0 * I1 * I2);
    if (t1.length > 0) sumRowsF32Ref(x, { planes, I: I0, inner: I1 * I2, K: K0, O: O0, stride: s0, pad: p0, dilation: d0 }, t1);
    sumRowsF32Ref(t1, axis1, t2);
  }
  for (let row = 0; row < R; row++) classSums(t2, row * I2, I2, s2, cls, row * s2);
  for (let k2 = 0; k2 < K2; k2++) {
    const off = k2 * d2 - p2,
      lo = tapLo(off, s2),
      hi = tapHi(I2, O2, off, s2);
    if (hi <= lo) continue;
    const first = lo * s2 + off,
      last = (hi - 1) * s2 + off,
      r = first % s2;
    for (let a = 0, row = 0; a < planes; a++) {
      const to = (a % C) * ks + k2;
      for (let k = 0; k < kk; k++, row++) {
        const at = row * I2;
        let v = cls[row * s2 + r]!;
        for (let i = at + r; i < at + first; i += s2) v -= t2[i]!;
        for (let i = at + last + s2; i < at + I2; i += s2) v -= t2[i]!;
        S[to + k * K2]! += v;
      }
    }
  }
  const len = (C / g.group) * ks,
    perGroup = g.M / g.group;
  for (let m = 0; m < g.M; m++) sums[m] = dot(delta, m * len, S, Math.floor(m / perGroup) * len, len);
}

/**
 * Sum of t[at + i], i < n: for s = 1 in four chains (i mod 4), (c0 + c1) + (c2 + c3), into cls[to];
 * else cls[to + r] for each residue r mod s, one chain each, i ascending.
 */
function classSums(t: Float64Array, at: number, n: number, s: number, cls: Float64Array, to: number): void {
  if (s === 1) {
    let c0 = 0,
      c1 = 0,
      c2 = 0,
      c3 = 0,
      i = at;
    const end = at + n;
    for (; i + 4 <= end; i += 4) {
      c0 += t[i]!;
      c1 += t[i + 1]!;
      c2 += t[i + 2]!;
      c3 += t[i + 3]!;
    }
    if (i < end) c0 += t[i]!;
    if (i + 1 < end) c1 += t[i + 1]!;
    if (i + 2 < end) c2 += t[i + 2]!;
    cls[to] = c0 + c1 + (c2 + c3);
    return;
  }
  cls.fill(0, to, to + s);
  for (let i = 0; i < n; i++) cls[to + (i % s)]! += t[at + i]!;
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
