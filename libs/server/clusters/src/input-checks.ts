import { NAME_PATTERN } from '@triad/spec';
import { ClusterException, ClusterExceptionCode } from './clusters.exception';

const invalid = (field: string, message: string) => new ClusterException(`${field} ${message}`, ClusterExceptionCode.INVALID_ARGUMENT, { field });

/** Cloud and cluster names: the spec's name rule (they reach ids, file names and log lines). */
export function checkName(field: string, value: string): void {
  if (!NAME_PATTERN.test(value)) throw invalid(field, 'must start with a lower-case letter and hold only a-z, 0-9 and "-" (at most 63)');
}

/** Free-text labels (token names, descriptions): something a person can read, bounded. */
export function checkLabel(field: string, value: string, max = 200): void {
  if (value.trim() === '' || value.length > max) throw invalid(field, `must be 1 to ${max} characters and not blank`);
}

export function checkRange(field: string, value: number, range: { min: number; max: number }): void {
  if (!Number.isInteger(value) || value < range.min || value > range.max) throw invalid(field, `must be an integer from ${range.min} to ${range.max}`);
}
