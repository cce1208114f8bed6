/** The js backend has one variant, the reference: 'ref' (or 'auto', or none) is all it takes. */
import { OnnxPtqError } from '../../errors.js';

export function checkVariant(v: string | undefined): void {
  if (v !== undefined && v !== 'auto' && v !== 'ref')
    throw new OnnxPtqError('KERNEL_ARGUMENT', `js backend: variant '${v}' is not available (only 'ref')`);
}
