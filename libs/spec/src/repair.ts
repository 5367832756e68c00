import type { SpecProblem } from './spec-problem';

/**
 * When only single fields are malformed (a bad name, address or CIDR, a literal secret, a field
 * that does not exist), the rules that relate fields can still run: each bad value is swapped for
 * a harmless placeholder (or an unknown field dropped) in a copy of the input, and rule problems
 * about the swapped fields are dropped (the field already has its own problem). This is what lets
 * a spec with ten problems report all ten.
 */
const DROP = Symbol('drop the field');

const PLACEHOLDERS: Record<string, (n: number) => unknown> = {
  UNKNOWN_FIELD: () => DROP,
  BAD_NAME: (n) => `invalid-name-${n}`,
  // 0.0.0.0/8 is never a real host: placeholders cannot collide with a real address.
  BAD_ADDRESS: (n) => `0.0.${Math.floor(n / 256)}.${n % 256}`,
  BAD_CIDR: () => '0.0.0.0/0',
  SECRET_INLINE: () => ({ secretRef: 'redacted' }),
};

export interface Repair {
  input: unknown;
  /** Paths (as in SpecProblem.path) of the swapped fields. */
  paths: string[];
}

function parsePath(path: string): (string | number)[] {
  return [...path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]));
}

/** A repaired copy, or undefined when some problem is not a single malformed field. */
export function repairSingleFields(input: unknown, problems: SpecProblem[]): Repair | undefined {
  if (problems.some((p) => !(p.code in PLACEHOLDERS) || p.path === '')) return undefined;
  const copy = structuredClone(input) as Record<string | number, unknown>;
  problems.forEach((p, n) => {
    const keys = parsePath(p.path);
    let target = copy;
    for (const key of keys.slice(0, -1)) target = target[key] as Record<string | number, unknown>;
    const key = keys[keys.length - 1];
    const placeholder = PLACEHOLDERS[p.code](n);
    if (placeholder === DROP) delete target[key];
    else target[key] = placeholder;
  });
  return { input: copy, paths: problems.map((p) => p.path) };
}

export function isAboutRepairedField(problem: SpecProblem, repairedPaths: string[]): boolean {
  return repairedPaths.some(
    (path) => problem.path === path || problem.path.startsWith(`${path}.`) || problem.path.startsWith(`${path}[`),
  );
}
