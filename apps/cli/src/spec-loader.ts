import { readFile } from 'node:fs/promises';
import { parseSpecText, validateClusterSpec, type SpecProblem, type SpecValidation } from '@triad/spec';

/** Reads, parses and validates a spec file; a file that cannot be parsed is one problem. */
export async function loadSpecFile(path: string): Promise<SpecValidation> {
  const text = await readFile(path, 'utf8');
  let input: unknown;
  try {
    input = parseSpecText(text, path);
  } catch (error) {
    const problem: SpecProblem = {
      path: '',
      code: 'UNPARSEABLE',
      message: `${path} is not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`,
      severity: 'error',
    };
    return { problems: [problem] };
  }
  return validateClusterSpec(input);
}

export function formatProblem(p: SpecProblem): string {
  return `${p.severity.toUpperCase()} ${p.code}${p.path ? ` at ${p.path}` : ''}: ${p.message}`;
}
