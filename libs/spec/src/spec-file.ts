import { parse as parseYaml } from 'yaml';

/**
 * Parses the text of a spec file: JSON when the name ends in `.json`, YAML otherwise (YAML 1.2 is
 * a superset of JSON, but JSON errors read better from JSON.parse). The result still needs
 * validateClusterSpec.
 */
export function parseSpecText(text: string, fileName: string): unknown {
  if (fileName.toLowerCase().endsWith('.json')) return JSON.parse(text) as unknown;
  // YAML 1.2 core schema: `no`/`on` stay strings, so a node called `no` cannot turn into false.
  return parseYaml(text, { schema: 'core', prettyErrors: true }) as unknown;
}
