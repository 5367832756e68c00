export type ProblemSeverity = 'error' | 'warning';

export interface SpecProblem {
  /** Field path in the spec as a person reads it, e.g. `services[2].vip`; empty for the whole spec. */
  path: string;
  /** Stable, machine-readable code, e.g. `DUPLICATE_VIP`. */
  code: string;
  /** One sentence that says what is wrong and what to do. */
  message: string;
  severity: ProblemSeverity;
}

/**
 * Risks a spec may accept by listing their code in `acknowledgedWarnings`; until then they count
 * as errors.
 */
export const ACKNOWLEDGEABLE_WARNINGS = ['STONITH_DISABLED', 'NO_QUORUM_POLICY_IGNORE', 'GALERA_ON_PUBLIC_NETWORK', 'EVEN_GALERA_MEMBERSHIP'] as const;

export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`))
    .join('');
}
