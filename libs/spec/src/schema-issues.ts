import type { z } from 'zod';
import { formatPath, type SpecProblem } from './spec-problem';

type Issue = z.core.$ZodIssue;

/** A value as a message quotes it: short, and never a dump of a large or deep structure. */
function show(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value !== null && typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

const EXPECTED: Record<string, string> = {
  object: 'an object',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

function codeOf(issue: Issue): string {
  switch (issue.code) {
    case 'custom':
      return typeof issue.params?.['code'] === 'string' ? issue.params['code'] : 'INVALID_VALUE';
    case 'invalid_format':
      return issue.format === 'regex' && issue.message.startsWith('must start with a lower-case letter')
        ? 'BAD_NAME'
        : 'INVALID_FORMAT';
    case 'invalid_type':
      return issue.input === undefined ? 'REQUIRED' : 'INVALID_TYPE';
    case 'invalid_value':
      return issue.input === undefined ? 'REQUIRED' : 'INVALID_VALUE';
    case 'unrecognized_keys':
      return 'UNKNOWN_FIELD';
    case 'too_small':
    case 'too_big':
      return 'OUT_OF_RANGE';
    default:
      return 'INVALID_VALUE';
  }
}

/** Turns zod's issues into SpecProblems with a path and a sentence a person can act on. */
export function schemaIssuesToProblems(issues: readonly Issue[]): SpecProblem[] {
  return issues.flatMap((issue): SpecProblem[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => {
        const path = formatPath([...issue.path, key]);
        return {
          path,
          code: 'UNKNOWN_FIELD',
          message: `${path} is not a field of the spec; remove it or check its spelling (docs/spec.md).`,
          severity: 'error',
        };
      });
    }
    const path = formatPath(issue.path);
    const where = path === '' ? 'The spec' : path;
    const code = codeOf(issue);
    let message: string;
    if (code === 'REQUIRED') message = `${where} is required.`;
    else if (issue.code === 'invalid_type') message = `${where} must be ${EXPECTED[issue.expected] ?? issue.expected}, not ${show(issue.input)}.`;
    else if (issue.code === 'invalid_value')
      message = `${where} is ${show(issue.input)}; use one of ${issue.values.map((v) => show(v)).join(', ')}.`;
    else if (issue.code === 'invalid_union' && issue.input !== null && typeof issue.input === 'object')
      message = `${where} does not match any accepted form; see docs/spec.md for this field.`;
    else if (issue.code === 'too_small' || issue.code === 'too_big') {
      const bound = issue.code === 'too_small' ? `at least ${issue.minimum}` : `at most ${issue.maximum}`;
      const unit = issue.origin === 'array' ? ' entries' : issue.origin === 'string' ? ' characters' : '';
      message = `${where} must be ${bound}${unit}.`;
    } else message = `${where} is ${show(issue.input)}, which ${issue.message.replace(/^Invalid input: ?/, '')}.`;
    return [{ path, code, message, severity: 'error' }];
  });
}
