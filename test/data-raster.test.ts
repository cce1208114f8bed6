// The anti-aliased path rasterizer behind the synthetic text data: coverage of shapes whose areas
// are known, the non-zero winding rule, curves, and bad sizes.
import { describe, expect, it } from 'vitest';
import { rasterizePath, type PathCommand } from '../src/data/raster.js';
import { OnnxPtqError } from '../src/errors.js';

const rect = (x0: number, y0: number, x1: number, y1: number, clockwise = true): PathCommand[] =>
  clockwise
    ? [{ type: 'M', x: x0, y: y0 }, { type: 'L', x: x1, y: y0 }, { type: 'L', x: x1, y: y1 }, { type: 'L', x: x0, y: y1 }, { type: 'Z' }]
    : [{ type: 'M', x: x0, y: y0 }, { type: 'L', x: x0, y: y1 }, { type: 'L', x: x1, y: y1 }, { type: 'L', x: x1, y: y0 }, { type: 'Z' }];
const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);

describe('rasterizePath', () => {
  it('covers pixel-aligned rectangles exactly', () => {
    const c = rasterizePath(rect(1, 1, 3, 2), 4, 3);
    expect(Array.from(c)).toEqual([0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
  });

  it('gives half-covered pixels half coverage (4x4 sub-pixels)', () => {
    const c = rasterizePath(rect(0.5, 0, 1.5, 1), 3, 1);
    expect(Array.from(c)).toEqual([0.5, 0.5, 0]);
  });

  it('applies the non-zero winding rule: overlap counts once, a reversed inner contour is a hole', () => {
    const overlap = rasterizePath([...rect(0, 0, 3, 3), ...rect(1, 1, 4, 4)], 5, 5);
    expect(sum(overlap)).toBe(9 + 9 - 4);
    expect(Math.max(...overlap)).toBe(1);
    const ring = rasterizePath([...rect(0, 0, 6, 6), ...rect(2, 2, 4, 4, false)], 6, 6);
    expect(sum(ring)).toBe(36 - 4);
    expect(ring[2 * 6 + 2]).toBe(0);
    const sameDir = rasterizePath([...rect(0, 0, 6, 6), ...rect(2, 2, 4, 4)], 6, 6);
    expect(sum(sameDir)).toBe(36);
  });

  it('closes an open contour implicitly and clips to the grid', () => {
    const open: PathCommand[] = [
      { type: 'M', x: -2, y: 0 },
      { type: 'L', x: 10, y: 0 },
      { type: 'L', x: 10, y: 2 },
      { type: 'L', x: -2, y: 2 },
    ];
    const c = rasterizePath(open, 4, 4);
    expect(Array.from(c.subarray(0, 8))).toEqual(new Array(8).fill(1));
    expect(sum(c)).toBe(8);
  });

  it('fills a triangle and a circle of cubic and quadratic curves to within sampling error of their areas', () => {
    const tri = rasterizePath([{ type: 'M', x: 0, y: 0 }, { type: 'L', x: 16, y: 0 }, { type: 'L', x: 0, y: 16 }, { type: 'Z' }], 16, 16);
    expect(Math.abs(sum(tri) - 128)).toBeLessThan(16 * 0.25 + 0.5);
    // Circle r = 8 at (10, 10): four cubic arcs (k = 0.5523) and the same with quadratic (rough) arcs.
    const r = 8,
      k = 0.5523 * r,
      cx = 10,
      cy = 10;
    const cubic: PathCommand[] = [
      { type: 'M', x: cx + r, y: cy },
      { type: 'C', x1: cx + r, y1: cy + k, x2: cx + k, y2: cy + r, x: cx, y: cy + r },
      { type: 'C', x1: cx - k, y1: cy + r, x2: cx - r, y2: cy + k, x: cx - r, y: cy },
      { type: 'C', x1: cx - r, y1: cy - k, x2: cx - k, y2: cy - r, x: cx, y: cy - r },
      { type: 'C', x1: cx + k, y1: cy - r, x2: cx + r, y2: cy - k, x: cx + r, y: cy },
      { type: 'Z' },
    ];
    expect(Math.abs(sum(rasterizePath(cubic, 20, 20)) - Math.PI * r * r)).toBeLessThan(1);
    // Eight quadratic arcs, control points on the tangents' intersections: within 1% of the area.
    const quad: PathCommand[] = [{ type: 'M', x: cx + r, y: cy }];
    for (let i = 1; i <= 8; i++) {
      const a0 = ((i - 1) * Math.PI) / 4,
        a1 = (i * Math.PI) / 4,
        am = (a0 + a1) / 2,
        rc = r / Math.cos(Math.PI / 8);
      quad.push({ type: 'Q', x1: cx + rc * Math.cos(am), y1: cy + rc * Math.sin(am), x: cx + r * Math.cos(a1), y: cy + r * Math.sin(a1) });
    }
    expect(Math.abs(sum(rasterizePath(quad, 20, 20)) / (Math.PI * r * r) - 1)).toBeLessThan(0.01);
  });

  it('refuses bad sizes and unknown commands with OnnxPtqError', () => {
    for (const [w, h, ss] of [
      [0, 4, 4],
      [4, -1, 4],
      [2.5, 4, 4],
      [4, 4, 0],
      [4, 4, 17],
      [1 << 13, 1 << 12, 4],
    ]) {
      expect(() => rasterizePath(rect(0, 0, 1, 1), w, h, ss)).toThrow(OnnxPtqError);
    }
    expect(() => rasterizePath([{ type: 'X' as 'M' }], 4, 4)).toThrow(/unknown path command 'X'/);
  });
});
