// Mul and Add of two 8-bit activations run as lut2 (one table of the 65,536 results) on tensors of
// 4,096 elements and more, and call qmul/qadd directly below that. A broadcast operand goes first
// into lut2 with the transposed table (runtime/integer/lower/binary.ts), whichever side of the node
// it is on. Checked against the direct kernel: each channel alone (1,024 elements) takes the direct
// path, the whole tensor (8 channels) the table, and the bytes must agree.
import { describe, expect, it } from 'vitest';
import { makeNode } from '../src/ir/graph.js';
import { Tensor, type Node } from '../src/onnx-api.js';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { loadedBackends } from './backends.js';
import { model, qdq, randomInput } from './integer-models.js';

function gateModel(op: 'Mul' | 'Add', gateFirst: boolean) {
  const nodes: Node[] = [];
  const inits: [string, Tensor][] = [];
  const x = qdq(nodes, inits, 'x', 0.02, 100);
  const s = qdq(nodes, inits, 's', 0.01, 30);
  nodes.push(makeNode(op, gateFirst ? [s, x] : [x, s], ['a']));
  const y = qdq(nodes, inits, 'a', op === 'Mul' ? 0.015 : 0.03, 90);
  nodes.push(makeNode('Identity', [y], ['y']));
  return model(
    nodes,
    inits,
    [
      { name: 'x', dims: [1, 'c', 32, 32] as never },
      { name: 's', dims: [1, 'c', 1, 1] as never },
    ],
    ['y'],
  );
}

describe('lut2 with a broadcast operand equals the direct kernel', () => {
  for (const op of ['Mul', 'Add'] as const)
    for (const gateFirst of [false, true])
      it(`${op}, the per-channel operand ${gateFirst ? 'first' : 'second'}`, async () => {
        const m = gateModel(op, gateFirst);
        const x = randomInput([1, 8, 32, 32], 5, -1, 4);
        const s = randomInput([1, 8, 1, 1], 6, 0, 2);
        for (const b of loadedBackends) {
          const sess = await IntegerSession.create(m, { backend: b.name, runInWorker: false });
          const whole = Array.from(sess.runSync({ x, s }).y!.data as Float32Array);
          expect(sess.loweringReport().find((e) => e.opType === op)?.kernel).toContain('lut2');
          const perChannel: number[] = [];
          for (let c = 0; c < 8; c++) {
            const xc = new Tensor('float32', (x.data as Float32Array).slice(c * 1024, (c + 1) * 1024), [1, 1, 32, 32]);
            const sc = new Tensor('float32', (s.data as Float32Array).slice(c, c + 1), [1, 1, 1, 1]);
            perChannel.push(...(sess.runSync({ x: xc, s: sc }).y!.data as Float32Array));
          }
          expect(whole, b.name).toEqual(perChannel);
          await sess.release();
        }
      });
});
