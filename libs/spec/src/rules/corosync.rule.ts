import type { ClusterSpec } from '../cluster-spec.schema';
import type { SpecProblem } from '../spec-problem';

export function checkCorosync(spec: ClusterSpec): SpecProblem[] {
  const { transport, crypto } = spec.corosync;
  // Corosync 3 encrypts only on knet; with udpu it refuses to start when crypto is set.
  if (transport === 'udpu' && (crypto.cipher !== 'none' || crypto.hash !== 'none')) {
    return [
      {
        path: 'corosync.crypto',
        code: 'UDPU_WITH_CRYPTO',
        message: 'Corosync cannot encrypt the udpu transport; use transport knet, or set crypto cipher and hash to "none".',
        severity: 'error',
      },
    ];
  }
  return [];
}
