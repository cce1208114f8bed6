// The per-element tensor loops of src/quant/scheme.ts (sliceRanges, quantizeTensor,
// dequantizeTensor, fakeQuantize) walk runs of elements that share a slice (forEachSliceRun); each
// must give, bit for bit, what the per-element definition through sliceIndexer gives, for every
// granularity and axis, including runs cut short at the end of a tensor.
import { describe, expect, it } from 'vitest';
import {
  dequantizeTensor,
  fakeQuantize,
  type QuantParams,
  quantizeTensor,
  quantizeValue,
  quantRange,
  sliceCount,
  sliceIndexer,
  sliceRanges,
} from '../src/quant/scheme.js';
import { rng } from './backends.js';

interface Case {
  name: string;
  dims: number[];
  granularity: QuantParams['granularity'];
  axis?: number;
  groupSize?: number;
}

const cases: Case[] = [
  { name: 'per-tensor', dims: [5, 3, 3, 3], granularity: 'per-tensor' },
  { name: 'per-channel axis 0', dims: [7, 3, 3, 3], granularity: 'per-channel', axis: 0 },
  { name: 'per-channel axis 1', dims: [4, 9, 5], granularity: 'per-channel', axis: 1 },
  { name: 'per-channel last axis', dims: [6, 11], granularity: 'per-channel', axis: 1 },
  { name: 'per-group, last group short', dims: [7, 13], granularity: 'per-group', groupSize: 16 },
  { name: 'per-block along axis 0', dims: [64, 6], granularity: 'per-block', axis: 0, groupSize: 16 },
];

describe('scheme tensor loops by slice runs', () => {
  for (const c of cases)
    it(`${c.name}: the per-element definition's bits`, () => {
      const r = rng(c.dims.length * 31 + c.dims[0]!);
      const n = c.dims.reduce((a, b) => a * b, 1);
      const data = Float32Array.from({ length: n }, () => (r() - 0.5) * 10 ** Math.floor(r() * 4 - 2));
      const scheme = { bits: 8, signed: true, symmetric: false, granularity: c.granularity, axis: c.axis, groupSize: c.groupSize };
      const slices = sliceCount(c.dims, scheme);
      const { qmin, qmax } = quantRange(8, true, false);
      const p: QuantParams = {
        ...scheme,
        qmin,
        qmax,
        scale: Float32Array.from({ length: slices }, () => 0.001 + r() * 0.05),
        zeroPoint: Int32Array.from({ length: slices }, () => Math.floor(r() * 20) - 10),
      };
      const idx = sliceIndexer(c.dims, p);
      // sliceRanges
      const mins = new Float64Array(slices).fill(Infinity),
        maxs = new Float64Array(slices).fill(-Infinity);
      for (let i = 0; i < n; i++) {
        mins[idx(i)] = Math.min(mins[idx(i)]!, data[i]!);
        maxs[idx(i)] = Math.max(maxs[idx(i)]!, data[i]!);
      }
      const got = sliceRanges(data, c.dims, scheme);
      expect(Array.from(got.mins)).toEqual(Array.from(mins));
      expect(Array.from(got.maxs)).toEqual(Array.from(maxs));
      // quantize, dequantize, fake-quantize (rounded and not)
      const q = quantizeTensor(data, c.dims, p);
      for (let i = 0; i < n; i++) expect(q[i], `q[${i}]`).toBe(quantizeValue(data[i]!, p.scale[idx(i)]!, p.zeroPoint[idx(i)]!, qmin, qmax));
      const dq = dequantizeTensor(q, c.dims, p);
      for (let i = 0; i < n; i++) expect(dq[i]).toBe(Math.fround(p.scale[idx(i)]! * (q[i]! - p.zeroPoint[idx(i)]!)));
      for (const round of [true, false]) {
        const fq = fakeQuantize(data, c.dims, p, round);
        for (let i = 0; i < n; i++) {
          const s = idx(i);
          expect(fq[i]).toBe(
            Math.fround(p.scale[s]! * (quantizeValue(data[i]!, p.scale[s]!, p.zeroPoint[s]!, qmin, qmax, round) - p.zeroPoint[s]!)),
          );
        }
      }
    });

  it('a non-finite weight is refused with its index', () => {
    const data = Float32Array.from([1, 2, Number.NaN, 4]);
    expect(() => sliceRanges(data, [2, 2], { bits: 8, signed: true, symmetric: true, granularity: 'per-channel', axis: 0 })).toThrow(
      /non-finite value \(NaN\) at element 2/,
    );
  });
});
