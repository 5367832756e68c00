import { clusterSpecSchema, type ClusterSpec } from './cluster-spec.schema';
import { isAboutRepairedField, repairSingleFields } from './repair';
import { checkAcknowledgements } from './rules/acknowledgements.rule';
import { checkCorosync } from './rules/corosync.rule';
import { checkGalera } from './rules/galera.rule';
import { checkNodePorts } from './rules/node-ports.rule';
import { checkPacemaker } from './rules/pacemaker.rule';
import { findInlineSecrets } from './rules/secrets.rule';
import { checkServices } from './rules/services.rule';
import { checkTopology } from './rules/topology.rule';
import { schemaIssuesToProblems } from './schema-issues';
import { ACKNOWLEDGEABLE_WARNINGS, type SpecProblem } from './spec-problem';

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
  checkAcknowledgements,
];

function crossFieldProblems(spec: ClusterSpec): SpecProblem[] {
  const acknowledged = new Set(spec.acknowledgedWarnings);
  return CROSS_FIELD_RULES.flatMap((rule) => rule(spec)).map((p): SpecProblem => {
    const needsAck = (ACKNOWLEDGEABLE_WARNINGS as readonly string[]).includes(p.code);
    // An unacknowledged risk blocks the spec like an error, and says how to accept it.
    return needsAck && !acknowledged.has(p.code) ? { ...p, severity: 'error' } : p;
  });
}

/**
 * Reports every problem at once: literal secrets anywhere, shape and single-field problems from
 * the schema, and the rules that relate fields to each other — these also run when only single
 * fields are malformed (see repair.ts). Only a spec whose structure is broken (wrong types,
 * missing or unknown fields) stops before the cross-field rules.
 */
export function validateClusterSpec(input: unknown): SpecValidation {
  const secrets = findInlineSecrets(input);
  const secretPaths = new Set(secrets.map((p) => p.path));
  const parsed = clusterSpecSchema.safeParse(input, { reportInput: true });
  if (parsed.success) {
    const problems = [...secrets, ...crossFieldProblems(parsed.data)];
    return problems.some((p) => p.severity === 'error') ? { problems } : { spec: parsed.data, problems };
  }
  // A literal secret also fails the secretRef shape: report it once, as a secret.
  const fieldProblems = [
    ...secrets,
    ...schemaIssuesToProblems(parsed.error.issues).filter((p) => !secretPaths.has(p.path)),
  ];
  const repair = repairSingleFields(input, fieldProblems);
  const repaired = repair && clusterSpecSchema.safeParse(repair.input);
  if (!repair || !repaired?.success) return { problems: fieldProblems };
  const ruleProblems = crossFieldProblems(repaired.data).filter((p) => !isAboutRepairedField(p, repair.paths));
  return { problems: [...fieldProblems, ...ruleProblems] };
}
