/** The CLI's command table: name, one-line summary, and a lazy loader (so `--help` stays fast). */
export type Command = { summary: string; load: () => Promise<{ main(argv: string[]): Promise<number> }> };

export const commands: Record<string, Command> = {
  quantize: { summary: 'calibrate a float model and write a QDQ int8 model', load: () => import('./commands/quantize.js') },
  calibrate: {
    summary: 'calibrate only (one shard of the data: --shard k/n) and write mergeable statistics for quantize --stats',
    load: () => import('./commands/calibrate.js'),
  },
  validate: {
    summary: 'compare a float model and its quantized version: agreement, accuracy, SQNR',
    load: () => import('./commands/validate.js'),
  },
  analyze: {
    summary: 'per-layer error analysis (SQNR, cosine, clipping), HTML report, --keep-float auto mixed precision',
    load: () => import('./commands/analyze.js'),
  },
  demo: {
    summary: 'quantize mnist-8, validate on 10,000 MNIST images on every backend, write an HTML report',
    load: () => import('./commands/demo.js'),
  },
  inspect: { summary: 'opsets, inputs/outputs, op counts, parameters, unsupported ops', load: () => import('./commands/inspect.js') },
  run: {
    summary: 'run a model on .npy/.pb inputs (quantized: the integer executor; float: the float engine), write outputs as .npy',
    load: () => import('./commands/run.js'),
  },
  backends: {
    summary: 'list the backends that loaded, why others failed, and the kernel variants chosen',
    load: () => import('./commands/backends.js'),
  },
};
