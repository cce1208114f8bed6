#!/usr/bin/env node
/**
 * The onnx-ptq command line: `onnx-ptq <command> [options]`. Each command is a module in
 * commands/ exporting `main(argv): Promise<number>` (the exit code); this file only dispatches.
 */
import { OnnxPtqError } from '../errors.js';

type Command = { summary: string; load: () => Promise<{ main(argv: string[]): Promise<number> }> };

const commands: Record<string, Command> = {
  quantize: { summary: 'calibrate a float model and write a QDQ int8 model', load: () => import('./commands/quantize.js') },
  validate: { summary: 'compare a float model and its quantized version: agreement, accuracy, SQNR', load: () => import('./commands/validate.js') },
  analyze: { summary: 'per-layer error analysis (SQNR, cosine, clipping), HTML report, --keep-float auto mixed precision', load: () => import('./commands/analyze.js') },
  demo: { summary: 'quantize mnist-8, validate on 10,000 MNIST images on every backend, write an HTML report', load: () => import('./commands/demo.js') },
  inspect: { summary: 'opsets, inputs/outputs, op counts, parameters, unsupported ops', load: () => import('./commands/inspect.js') },
  run: { summary: 'run a float model on .npy/.pb inputs, write outputs as .npy', load: () => import('./commands/run.js') },
  backends: { summary: 'list the backends that loaded, why others failed, and the kernel variants chosen', load: () => import('./commands/backends.js') },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    'usage: onnx-ptq <command> [options]   (onnx-ptq <command> --help for its options)',
    '',
    'commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'examples:',
    '  onnx-ptq demo                                          the whole pipeline on mnist-8, with an HTML report',
    '  onnx-ptq quantize model.onnx -o q.onnx --calib calib/  then: onnx-ptq analyze model.onnx q.onnx --data eval/ --html report.html',
    '',
    'environment: ONNX_PTQ_BACKEND=native|wasm|js forces a backend (default: the first that loads).',
  ].join('\n');
}

export async function cli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 1;
  }
  const cmd = commands[name];
  if (!cmd) {
    console.error(`onnx-ptq: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    return await (await cmd.load()).main(rest);
  } catch (e) {
    if (e instanceof OnnxPtqError) {
      console.error(`onnx-ptq ${name}: error [${e.code}]: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

cli(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e) => { console.error(e); process.exitCode = 70; },
);
