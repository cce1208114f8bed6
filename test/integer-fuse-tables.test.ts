// Byte-to-byte steps composed into one table (src/runtime/integer/lower/fuse-tables.ts): the chain
// HardSwish -> Mul(scalar) -> Add(scalar) of MobileOne blocks becomes one LUT step whose outputs are
// the bits of the three steps run one after another; where the pass must not fire, it does not.
import { describe, expect, it } from 'vitest';
import { IntegerSession, type Node, type Tensor } from '../src/index.js';
import { makeNode } from '../src/tools.js';
import { REQUANT_MODES } from '../src/quant/requant.js';
import { loadedBackends } from './backends.js';
import { i8, model, qdq, randomInput, scalarF, u8 } from './integer-models.js';

/**
 * x -> HardSwish -> Mul(c1) -> Add(c2) -> y, all 8-bit QDQ. `constant`: c1 and c2 are initializers
 * (else c1 is a uint8 graph input, so Mul has two activations). `tapHardSwish`: the HardSwish output
 * is also a graph output. `signed`: int8 activations.
 */
function chain(opts: { constant: boolean; tapHardSwish?: boolean; signed?: boolean }) {
  const signed = opts.signed ?? false;
  const z = signed ? 0 : 128;
  const nodes: Node[] = [];
  const inits: [string, Tensor][] = [];
  const x = qdq(nodes, inits, 'x', 0.04, z, signed);
  nodes.push(makeNode('HardSwish', [x], ['h']));
  const h = qdq(nodes, inits, 'h', 0.03, signed ? -40 : 30, signed);
  inits.push(['c1_s', scalarF(0.02)], ['c1_z', signed ? i8(0) : u8(0)], ['c2_s', scalarF(0.01)], ['c2_z', signed ? i8(0) : u8(0)]);
  if (opts.constant) inits.push(['c1_q', signed ? i8(-77) : u8(177)]);
  inits.push(['c2_q', signed ? i8(93) : u8(93)]);
  nodes.push(
    makeNode('DequantizeLinear', ['c1_q', 'c1_s', 'c1_z'], ['c1']),
    makeNode('DequantizeLinear', ['c2_q', 'c2_s', 'c2_z'], ['c2']),
  );
  nodes.push(makeNode('Mul', [h, 'c1'], ['m']));
  const m = qdq(nodes, inits, 'm', 0.05, signed ? 3 : 120, signed);
  nodes.push(makeNode('Add', ['c2', m], ['a']));
  inits.push(['y_s', scalarF(0.045)], ['y_z', signed ? i8(-10) : u8(110)]);
  nodes.push(makeNode('QuantizeLinear', ['a', 'y_s', 'y_z'], ['y_q']), makeNode('DequantizeLinear', ['y_q', 'y_s', 'y_z'], ['y']));
  const inputs: { name: string; dims: number[]; dtype?: 'float32' | 'uint8' | 'int8' }[] = [{ name: 'x', dims: [1, 5, 7, 9] }];
  if (!opts.constant) inputs.push({ name: 'c1_q', dims: [], dtype: signed ? 'int8' : 'uint8' });
  return model(nodes, inits, inputs, opts.tapHardSwish ? ['y', h] : ['y']);
}

const c1Feed = (signed: boolean) =>
  signed ? { c1_q: { data: Int8Array.of(-77), dims: [] } } : { c1_q: { data: Uint8Array.of(177), dims: [] } };

describe('fuse-tables: HardSwish -> Mul(scalar) -> Add(scalar) is one table', () => {
  for (const signed of [false, true])
    it(`${signed ? 'int8' : 'uint8'}: one LUT step, the same bits as the unfused steps on every backend and mode`, async () => {
      const x = randomInput([1, 5, 7, 9], 3, -5, 5);
      for (const mode of REQUANT_MODES) {
        let first: number[] | undefined;
        for (const be of loadedBackends.map((b) => b.name)) {
          const fused = await IntegerSession.create(chain({ constant: true, signed }), {
            backend: be,
            requantMode: mode,
            runInWorker: false,
          });
          const plain = await IntegerSession.create(chain({ constant: false, signed }), {
            backend: be,
            requantMode: mode,
            runInWorker: false,
          });
          const report = fused.loweringReport();
          const by = (op: string) => report.find((e) => e.opType === op)!;
          expect(by('HardSwish')).toMatchObject({ execution: 'fused', kernel: by('Add').node });
          expect(by('Mul')).toMatchObject({ execution: 'fused' });
          expect(by('Add')).toMatchObject({ execution: 'integer', kernel: 'lut' });
          expect(by('Add').reason).toContain('HardSwish -> Mul -> Add');
          // The control: Mul of two activations stays qmul, so nothing composes past it.
          const plainReport = plain.loweringReport();
          expect(plainReport.find((e) => e.opType === 'Mul')).toMatchObject({ execution: 'integer', kernel: 'qmul + lut2' });
          expect(plainReport.find((e) => e.opType === 'HardSwish')).toMatchObject({ execution: 'integer', kernel: 'lut' });
          const a = Array.from(fused.runSync({ x }).y!.data as Float32Array);
          const b = Array.from(plain.runSync({ x, ...c1Feed(signed) }).y!.data as Float32Array);
          expect(a, `${be} ${mode}`).toEqual(b);
          if (!first) first = a;
          else expect(a, `${be} vs first backend (${mode})`).toEqual(first);
          await fused.release();
          await plain.release();
        }
      }
    });

  it('does not compose across a tensor someone else reads (a graph output)', async () => {
    const s = await IntegerSession.create(chain({ constant: true, tapHardSwish: true }), { backend: 'js', runInWorker: false });
    const report = s.loweringReport();
    expect(report.find((e) => e.opType === 'HardSwish')).toMatchObject({ execution: 'integer', kernel: 'lut' });
    expect(report.find((e) => e.opType === 'Mul')).toMatchObject({ execution: 'fused' });
    expect(report.find((e) => e.opType === 'Add')!.reason).toContain('Mul -> Add');
    const x = randomInput([1, 5, 7, 9], 4, -5, 5);
    const out = s.runSync({ x });
    expect(out.h_dq!.dims).toEqual([1, 5, 7, 9]);
    expect(out.y!.dims).toEqual([1, 5, 7, 9]);
    // The same y as without the tap.
    const t = await IntegerSession.create(chain({ constant: true }), { backend: 'js', runInWorker: false });
    expect(Array.from(out.y!.data as Float32Array)).toEqual(Array.from(t.runSync({ x }).y!.data as Float32Array));
  });
});
