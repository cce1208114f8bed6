/**
 * The source taps of bilinear resizing with align_corners = false (cv2.resize, PIL, ONNX Resize's
 * half_pixel): output index `i` of `n` reads source indices `i0` and `i1` of `m`, weighting `i1` by `w`.
 */
export function bilinearTap(i: number, n: number, m: number): { i0: number; i1: number; w: number } {
  const s = Math.min(m - 1, Math.max(0, ((i + 0.5) * m) / n - 0.5));
  const i0 = Math.floor(s);
  return { i0, i1: Math.min(m - 1, i0 + 1), w: s - i0 };
}
