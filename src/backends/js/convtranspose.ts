/** Integer ConvTranspose on the js backend: the reference kernel after the C ABI's checks. */
import { OnnxPtqError } from '../../errors.js';
import { convTransposeFields, convTransposeGeom, type QConvTransposeKernels } from '../kernels-convtranspose.js';
import { validateRequant } from '../qgemm-args.js';
import { qconvTranspose2dRef } from '../../kernels/int8/qconvtranspose-ref.js';

function fail(msg: string): never {
  throw new OnnxPtqError('KERNEL_ARGUMENT', msg);
}

export function jsConvTransposeKernels(): QConvTransposeKernels {
  return {
    qconvTranspose2d(a) {
      if (a.variant !== undefined && a.variant !== 'auto' && a.variant !== 'ref')
        fail(`js backend: variant '${a.variant}' is not available (only 'ref')`);
      const g = convTransposeGeom(convTransposeFields(a.shape));
      const is8 = (v: unknown) => v instanceof Uint8Array || v instanceof Int8Array;
      if (!is8(a.x) || !is8(a.y)) fail('x and y must be Uint8Array or Int8Array');
      if (!(a.w instanceof Int8Array)) fail('w must be an Int8Array');
      if (!(a.wZeroPoint instanceof Int32Array)) fail('wZeroPoint must be an Int32Array');
      if (a.bias != null && !(a.bias instanceof Int32Array)) fail('bias must be an Int32Array');
      if (a.x.length < g.n * g.cin * g.h * g.w) fail('convtranspose: buffer X is smaller than batch * in_channels * in_height * in_width');
      if (a.y.length < g.n * g.cout * g.oh * g.ow) fail('convtranspose: buffer Y is smaller than batch * out_channels * out_h * out_w');
      if (a.w.length < g.cin * g.coutG * g.kh * g.kw)
        fail('convtranspose: buffer W is smaller than in_channels * out_channels/groups * kernel_h * kernel_w');
      const xs = a.x instanceof Int8Array;
      const tmin = xs ? -128 : 0,
        tmax = xs ? 127 : 255;
      if (!Number.isInteger(a.xZeroPoint) || a.xZeroPoint < tmin || a.xZeroPoint > tmax)
        fail("convtranspose: x_zero_point out of the input type's range");
      if (a.wZeroPoint.length !== 1 && a.wZeroPoint.length !== g.cout) fail('convtranspose: w_zero_point needs 1 or out_channels entries');
      for (const z of a.wZeroPoint) if (z < -128 || z > 127) fail('convtranspose: w_zero_point entries must be in [-128, 127]');
      const bias = a.bias?.length ? a.bias : null;
      if (bias && bias.length !== g.cout) fail('convtranspose: bias needs 0 or out_channels entries');
      validateRequant(a.requant, g.cout, a.y instanceof Int8Array, 'convtranspose');
      qconvTranspose2dRef(g, a.x, a.xZeroPoint, a.w, a.wZeroPoint, bias, a.requant, a.y);
    },
  };
}
