// Child process of hardening-files.test.ts: writes a large file atomically over and over until
// the parent signals it. Prints "go" once the first write started.
import { writeFileAtomic } from '../../src/util/atomic-write.js';

const [target, mb] = [process.argv[2]!, Number(process.argv[3] ?? 64)];
const data = new Uint8Array(mb << 20).fill(7);
process.stdout.write('go\n');
for (;;) {
  writeFileAtomic(target, data);
  // Let a pending signal's listener run between writes (a real run returns to the event loop too).
  await new Promise((r) => setImmediate(r));
}
