// Shape arithmetic every layer needs (ops, kernels' argument checks, the integer lowering), defined
// once here; each caller words its own error.

/** The numpy broadcast of two concrete shapes, or undefined when they do not broadcast. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] | undefined {
  const r = Math.max(a.length, b.length);
  const out = new Array<number>(r);
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1,
      db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return undefined;
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * ONNX output size of a conv or pool window along one axis:
 * floor((in + padBegin + padEnd - ((kernel - 1) * dilation + 1)) / stride) + 1, with ceil instead of
 * floor in ceil_mode, where the last window must also start inside the input or its begin padding.
 * 0 when the arguments are invalid (kernel, stride or dilation < 1, kernel larger than the padded input).
 */
export function windowOutputSize(
  inSize: number,
  kernel: number,
  stride: number,
  padBegin: number,
  padEnd: number,
  dilation = 1,
  ceilMode = false,
): number {
  if (kernel <= 0 || stride <= 0 || dilation <= 0) return 0;
  const span = inSize + padBegin + padEnd - ((kernel - 1) * dilation + 1);
  if (span < 0) return 0;
  let out = (ceilMode ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  if (ceilMode && (out - 1) * stride >= inSize + padBegin) out--;
  return out;
}
