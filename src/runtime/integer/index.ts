// Public API of the integer-only executor (re-exported by src/index.ts).
export { createQdqRegistry } from './qdq-registry.js';
