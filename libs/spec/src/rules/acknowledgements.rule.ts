import type { ClusterSpec } from '../cluster-spec.schema';
import { ACKNOWLEDGEABLE_WARNINGS, type SpecProblem } from '../spec-problem';

/** An acknowledgement that matches no acknowledgeable warning is most likely a typo. */
export function checkAcknowledgements(spec: ClusterSpec): SpecProblem[] {
  return spec.acknowledgedWarnings.flatMap((code, i): SpecProblem[] =>
    (ACKNOWLEDGEABLE_WARNINGS as readonly string[]).includes(code)
      ? []
      : [
          {
            path: `acknowledgedWarnings[${i}]`,
            code: 'UNKNOWN_ACKNOWLEDGEMENT',
            message: `"${code}" is not a warning that can be acknowledged; use one of ${ACKNOWLEDGEABLE_WARNINGS.join(', ')}.`,
            severity: 'warning',
          },
        ],
  );
}
