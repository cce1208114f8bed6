// Integer convolution as the executor uses it: weights packed once per geometry for the backend's
// qconv2d kernel. Every other integer kernel is called on the backend directly (every backend
// implements every family; src/backends/types.ts).
import type { Backend, Int8Like } from '../../backends/types.js';
import type { PackedQConv2d, Conv2dShape } from '../../backends/kernels-conv.js';
import type { RequantParams } from '../../quant/requant.js';
import { windowOutputSize } from '../../util/shape.js';

/** Integer conv weights packed once for the backend's conv kernel. */
export interface PreparedConv {
  packed: PackedQConv2d;
  wZeroPoint: Int32Array;
  bias: Int32Array | null;
  shape: Required<Conv2dShape>;
  outH: number;
  outW: number;
}

export class IntKernels {
  constructor(readonly backend: Backend) {}

  /** The kernel name the lowering report gives integer convolutions. */
  get convKernel(): string {
    return 'qconv2d';
  }

  prepareConv(shape: Required<Conv2dShape>, w: Int8Array, wZeroPoint: Int32Array, bias: Int32Array | null): PreparedConv {
    const outH = windowOutputSize(shape.inHeight, shape.kernelH, shape.strides[0]!, shape.pads[0]!, shape.pads[2]!, shape.dilations[0]!);
    const outW = windowOutputSize(shape.inWidth, shape.kernelW, shape.strides[1]!, shape.pads[1]!, shape.pads[3]!, shape.dilations[1]!);
    const packed = this.backend.qconv2dPack({ shape, w, wZeroPoint, bias });
    return { packed, wZeroPoint, bias, shape, outH, outW };
  }

  conv(p: PreparedConv, x: Int8Like, xZeroPoint: number, requant: RequantParams, y: Int8Like): void {
    this.backend.qconv2d(p.packed, { x, xZeroPoint, requant, y, batch: p.shape.batch });
  }
}
