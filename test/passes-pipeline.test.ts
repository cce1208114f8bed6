// The pass pipeline of quantize(): names, order, options, and bad input naming the pass, option and node.
import { describe, expect, it } from 'vitest';
import { quantize } from '../src/ptq/quantize.js';
import { resolveQuantizeOptions } from '../src/ptq/options.js';
import { checkPassList } from '../src/passes/pipeline.js';
import { OnnxPtqError } from '../src/errors.js';
import { twoConv, xFeed } from './passes-helpers.js';

const calib = Array.from({ length: 8 }, () => xFeed());

describe('pass pipeline', () => {
  it('accepts valid orders and refuses unknown, repeated and impossible ones with the reason', () => {
    expect(checkPassList(['layer-split', 'equalization', 'bias-correction', 'sign-map', 'joining-nodes', 'single-shift'])).toHaveLength(6);
    expect(checkPassList(['equalization', 'layer-split'])).toHaveLength(2);
    expect(() => checkPassList(['equalisation'])).toThrow(/unknown pass 'equalisation'/);
    expect(() => checkPassList(['sign-map', 'sign-map'])).toThrow(/'sign-map' is listed twice/);
    expect(() => checkPassList(['bias-correction', 'equalization'])).toThrow(/pass 'equalization' cannot run after 'bias-correction'/);
    expect(() => checkPassList(['single-shift', 'joining-nodes'])).toThrow(/'joining-nodes' cannot run after 'single-shift'/);
    expect(() => resolveQuantizeOptions({ passes: ['nope'] }, "config file 'x.json'")).toThrow(
      /config file 'x.json': option 'passes': unknown pass 'nope'/,
    );
    expect(() => resolveQuantizeOptions({ passOptions: { nope: {} } })).toThrow(/passOptions.nope/);
    expect(() => resolveQuantizeOptions({ passOptions: { 'layer-split': 3 } })).toThrow(/passOptions.layer-split/);
  });

  it('runs graph passes before calibration and reports them in order', async () => {
    const { report, model } = await quantize(twoConv('relu'), {
      calibration: calib,
      weightGranularity: 'per-tensor',
      // equalization first: after the split, conv1's output has two readers and no pair is left
      passes: ['equalization', 'layer-split', 'bias-correction', 'sign-map', 'joining-nodes', 'single-shift'],
      passOptions: {
        'layer-split': { interested_layers: ['conv2'], value_threshold: 0.5 },
        equalization: { including_activation: true, verbose: true },
      },
    });
    expect(report.passes.map((p) => p.pass)).toEqual([
      'fuse-hardswish',
      'fuse-gelu',
      'fuse-layernorm',
      'fold-bias-add',
      'fold-batchnorm',
      'equalization',
      'layer-split',
      'sign-map',
      'joining-nodes',
      'single-shift',
      'bias-correction',
    ]);
    expect(report.passes.find((p) => p.pass === 'layer-split')!.changed).toBe(1);
    expect(report.passes.find((p) => p.pass === 'equalization')!.details[0]).toMatch(/conv1/);
    expect(model.metadata.get('onnx_ptq.requant_mode')).toBe('shift');
  });

  it('bad pass options name the pass, option and node', async () => {
    const bad = async (passes: string[], passOptions: object, re: RegExp) => {
      const e = await quantize(twoConv('relu'), { calibration: calib, passes, passOptions: passOptions as never }).catch((x) => x);
      expect(e).toBeInstanceOf(OnnxPtqError);
      expect(String(e.message)).toMatch(re);
    };
    await bad(['equalization'], { equalization: { iterations: -1 } }, /equalization: option 'iterations'/);
    await bad(
      ['equalization'],
      { equalization: { interested_layers: ['ghost'] } },
      /equalization: option 'interested_layers' names node 'ghost'/,
    );
    await bad(['layer-split'], { 'layer-split': { interested_layers: ['relu'] } }, /layer-split: node Relu node 'relu'/);
    await bad(['layer-split'], { 'layer-split': { method: 3 } }, /layer-split: option 'method'/);
    await bad(['sign-map'], { 'sign-map': { verbose: 'yes' } }, /sign-map: option 'verbose'/);
    await bad(['joining-nodes'], { 'joining-nodes': { extra: 1 } }, /JoiningNodesPass: unknown option 'extra'/);
    await bad(['single-shift'], { 'single-shift': { output_rounding: 'down' } }, /single-shift: option 'output_rounding'/);
    const e = await quantize(twoConv('relu'), { weightOnly: true, passes: ['sign-map'] }).catch((x) => x);
    expect(String(e.message)).toMatch(/sign-map: needs calibrated activations/);
    const it = (function* () {
      yield* calib;
    })();
    const e2 = await quantize(twoConv('relu'), {
      calibration: it,
      passes: ['equalization'],
      passOptions: { equalization: { including_activation: true } },
    }).catch((x) => x);
    expect(String(e2.message)).toMatch(/equalization: option 'including_activation' reads the calibration data twice/);
    const e3 = await quantize(twoConv('relu'), { calibration: calib, weightSymmetric: false, passes: ['single-shift'] }).catch((x) => x);
    expect(String(e3.message)).toMatch(/single-shift: option 'weightSymmetric'/);
  });
});
