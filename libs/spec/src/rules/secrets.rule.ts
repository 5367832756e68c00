import { formatPath, type SpecProblem } from '../spec-problem';

/** Field names that hold secrets. Their values must be `{ secretRef: name }`, never literals. */
const SECRET_FIELD = /(password|passwd|cookie|secret|secret_key|token|private_?key|authkey|apikey|api_key|community)$/i;

/** Deeper than any spec field; stops a hostile, deeply nested document from exhausting the stack. */
const MAX_DEPTH = 32;

/**
 * Walks the raw input (before the schema) so that a literal secret is reported as such wherever
 * it is, including inside free-form maps such as fencing device params.
 */
export function findInlineSecrets(input: unknown): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const walk = (value: unknown, path: (string | number)[]): void => {
    if (path.length > MAX_DEPTH) return;
    if (Array.isArray(value)) {
      value.forEach((item, i) => walk(item, [...path, i]));
      return;
    }
    if (value === null || typeof value !== 'object') return;
    for (const [key, child] of Object.entries(value)) {
      const childPath = [...path, key];
      if (SECRET_FIELD.test(key) && (typeof child === 'string' || typeof child === 'number')) {
        problems.push({
          path: formatPath(childPath),
          code: 'SECRET_INLINE',
          message: `${formatPath(childPath)} holds a literal secret; store it on the node and write { secretRef: "<name>" } instead.`,
          severity: 'error',
        });
        continue;
      }
      walk(child, childPath);
    }
  };
  walk(input, []);
  return problems;
}
