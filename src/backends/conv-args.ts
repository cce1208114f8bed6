/** Geometry and argument checks of integer convolution, in the words of native/conv/conv-driver.cc
 * and native/api/conv-api.cc (the js backend makes them itself; native and wasm make them in C). */
import { OnnxPtqError } from '../errors.js';
import type { Conv2dShape, QConv2dArgs, QConv2dPackArgs } from './kernels-conv.js';
import { validateRequant } from './qgemm-args.js';

function fail(msg: string): never {
  throw new OnnxPtqError('KERNEL_ARGUMENT', msg);
}

const FIELD_NAMES = [
  'batch',
  'in_channels',
  'in_height',
  'in_width',
  'out_channels',
  'kernel_h',
  'kernel_w',
  'groups',
  'stride_h',
  'stride_w',
  'dilation_h',
  'dilation_w',
  'pad_top',
  'pad_left',
  'pad_bottom',
  'pad_right',
] as const;
const MAX_DIM = 2 ** 28;

/** The 16 fields of opq_conv2d_shape; values that are not int32 integers are refused here. */
export function shapeFields(s: Conv2dShape): Int32Array {
  if (s === null || typeof s !== 'object') fail('conv2d: shape must be an object');
  const st = s.strides ?? [1, 1],
    dl = s.dilations ?? [1, 1],
    pd = s.pads ?? [0, 0, 0, 0];
  if (st.length !== 2) fail('conv2d: strides must have 2 entries [h, w]');
  if (dl.length !== 2) fail('conv2d: dilations must have 2 entries [h, w]');
  if (pd.length !== 4) fail('conv2d: pads must have 4 entries [top, left, bottom, right]');
  const v = [
    s.batch,
    s.inChannels,
    s.inHeight,
    s.inWidth,
    s.outChannels,
    s.kernelH,
    s.kernelW,
    s.groups ?? 1,
    st[0],
    st[1],
    dl[0],
    dl[1],
    pd[0],
    pd[1],
    pd[2],
    pd[3],
  ];
  v.forEach((x, i) => {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < -(2 ** 31) || x >= 2 ** 31)
      fail(`conv2d: ${FIELD_NAMES[i]} must be an integer, got ${String(x)}`);
  });
  return Int32Array.from(v);
}

export interface ConvGeom {
  n: number;
  cin: number;
  h: number;
  w: number;
  cout: number;
  kh: number;
  kw: number;
  groups: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  pt: number;
  pl: number;
  pb: number;
  pr: number;
  oh: number;
  ow: number;
  cinG: number;
  coutG: number;
  kg: number;
}

/** MakeConvGeom: the same checks and messages. */
export function convGeom(f: Int32Array): ConvGeom {
  const mins = [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0];
  for (let i = 0; i < 16; i++) if (f[i] < mins[i] || f[i] > MAX_DIM) fail(`conv2d: ${FIELD_NAMES[i]} must be in [${mins[i]}, 2^28]`);
  const [n, cin, h, w, cout, kh, kw, groups, sh, sw, dh, dw, pt, pl, pb, pr] = Array.from(f);
  if (cin % groups !== 0) fail('conv2d: in_channels must be a multiple of groups');
  if (cout % groups !== 0) fail('conv2d: out_channels must be a multiple of groups');
  const ekh = (kh - 1) * dh + 1,
    ekw = (kw - 1) * dw + 1;
  if (ekh > h + pt + pb) fail('conv2d: kernel_h (dilated) is larger than the padded input height');
  if (ekw > w + pl + pr) fail('conv2d: kernel_w (dilated) is larger than the padded input width');
  const oh = Math.floor((h + pt + pb - ekh) / sh) + 1,
    ow = Math.floor((w + pl + pr - ekw) / sw) + 1;
  const hp = (oh - 1) * sh + ekh,
    wp = (ow - 1) * sw + ekw;
  const kg = (cin / groups) * kh * kw;
  const E = 2 ** 31;
  if (cin * h * w >= E || cin * hp * wp >= E || cout * oh * ow >= E || cout * kg >= E || kg * oh * ow >= E) {
    fail('conv2d: a tensor of this geometry exceeds 2^31 elements');
  }
  if (n * cin * h * w >= 2 ** 40 || n * cout * oh * ow >= 2 ** 40) fail('conv2d: batch makes X or Y exceed 2^40 elements');
  return { n, cin, h, w, cout, kh, kw, groups, sh, sw, dh, dw, pt, pl, pb, pr, oh, ow, cinG: cin / groups, coutG: cout / groups, kg };
}

/** The checks of opq_qconv2d_pack after the geometry. */
export function validatePack(g: ConvGeom, a: QConv2dPackArgs): void {
  if (!(a.w instanceof Int8Array)) fail('w must be an Int8Array');
  if (!(a.wZeroPoint instanceof Int32Array)) fail('wZeroPoint must be an Int32Array');
  if (a.bias != null && !(a.bias instanceof Int32Array)) fail('bias must be an Int32Array');
  if (a.w.length < g.cout * g.kg) fail('qconv2d_pack: buffer W is smaller than out_channels*(in_channels/groups)*kernel_h*kernel_w');
  if (a.wZeroPoint.length !== 1 && a.wZeroPoint.length !== g.cout) fail('qconv2d_pack: w_zero_point must have 1 or out_channels entries');
  for (const z of a.wZeroPoint) if (z < -128 || z > 127) fail('qconv2d_pack: w_zero_point out of int8 range');
  const nb = a.bias ? a.bias.length : 0;
  if (nb !== 0 && nb !== g.cout) fail('qconv2d_pack: bias must have 0 or out_channels entries');
}

/** The checks of opq_qconv2d_run after the geometry and the packed weights. */
export function validateRun(g: ConvGeom, a: QConv2dArgs): void {
  if (!(a.x instanceof Uint8Array || a.x instanceof Int8Array)) fail('x must be a Uint8Array or Int8Array');
  if (!(a.y instanceof Uint8Array || a.y instanceof Int8Array)) fail('y must be a Uint8Array or Int8Array');
  if (a.x.length < g.n * g.cin * g.h * g.w) fail('qconv2d: buffer X is smaller than batch*in_channels*in_height*in_width');
  if (a.y.length < g.n * g.cout * g.oh * g.ow) fail('qconv2d: buffer Y is smaller than batch*out_channels*out_h*out_w');
  const xs = a.x instanceof Int8Array;
  if (!Number.isInteger(a.xZeroPoint) || a.xZeroPoint < (xs ? -128 : 0) || a.xZeroPoint > (xs ? 127 : 255))
    fail("qconv2d: x_zero_point out of X's type range");
  validateRequant(a.requant, g.cout, a.y instanceof Int8Array, 'qconv2d');
}

/** The fields to run with: the packed geometry with the run's batch. */
export function runFields(packed: Int32Array, batch: number | undefined): Int32Array {
  const f = packed.slice();
  if (batch !== undefined) {
    if (!Number.isInteger(batch) || batch < 0 || batch > MAX_DIM) fail('conv2d: batch must be in [0, 2^28]');
    f[0] = batch;
  }
  return f;
}
