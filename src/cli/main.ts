#!/usr/bin/env node
/**
 * The onnx-ptq command line: `onnx-ptq <command> [options]`. Each command is a module in
 * commands/ exporting `main(argv): Promise<number>` (the exit code); this file only dispatches.
 */
import { OnnxPtqError } from '../errors.js';
import { commands } from './commands.js';
import { setProgressEnabled, setProgressLines } from '../util/progress.js';

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
  // --quiet means nothing on stderr either, progress bars included.
  if (rest.includes('--quiet') || rest.includes('-q')) setProgressEnabled(false);
  // On a pipe or a log (CI, a Kubernetes Job): a progress line every ~2 s instead of a \r bar.
  else setProgressLines(true);
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
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(e);
    process.exitCode = 70;
  },
);
