import { clusterSpecSchema, type ClusterSpec } from './cluster-spec.schema';
import { checkCorosync } from './rules/corosync.rule';
import { checkGalera } from './rules/galera.rule';
import { checkNodePorts } from './rules/node-ports.rule';
import { ACKNOWLEDGEABLE_WARNINGS, checkPacemaker } from './rules/pacemaker.rule';
import { findInlineSecrets } from './rules/secrets.rule';
import { checkServices } from './rules/services.rule';
import { checkTopology } from './rules/topology.rule';
import { schemaIssuesToProblems } from './schema-issues';
import type { SpecProblem } from './spec-problem';

export interface SpecValidation {
  /** Set, with every default filled in, only when no problem has severity `error`. */
  spec?: ClusterSpec;
  problems: SpecProblem[];
}

const CROSS_FIELD_RULES: ((spec: ClusterSpec) => SpecProblem[])[] = [
  checkTopology,
  checkServices,
  checkNodePorts,
  checkGalera,
  checkPacemaker,
  checkCorosync,
];

/**
 * Reports every problem at once: shape and single-field problems from the schema, literal
 * secrets anywhere, then (when the shape is sound) the rules that relate fields to each other.
 */
export function validateClusterSpec(input: unknown): SpecValidation {
  const secrets = findInlineSecrets(input);
  const secretPaths = new Set(secrets.map((p) => p.path));
  const parsed = clusterSpecSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) {
    // A literal secret also fails the secretRef shape: report it once, as a secret.
    const schemaProblems = schemaIssuesToProblems(parsed.error.issues).filter((p) => !secretPaths.has(p.path));
    return { problems: [...secrets, ...schemaProblems] };
  }
  const spec = parsed.data;
  const acknowledged = new Set(spec.acknowledgedWarnings);
  const ruleProblems = CROSS_FIELD_RULES.flatMap((rule) => rule(spec)).map((p): SpecProblem => {
    const needsAck = (ACKNOWLEDGEABLE_WARNINGS as readonly string[]).includes(p.code);
    if (!needsAck || acknowledged.has(p.code)) return p;
    return { ...p, severity: 'error' };
  });
  const problems = [...secrets, ...ruleProblems];
  return problems.some((p) => p.severity === 'error') ? { problems } : { spec, problems };
}
