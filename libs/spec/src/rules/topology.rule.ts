import { canonicalAddress } from '../addresses';
import type { ClusterSpec } from '../cluster-spec.schema';
import type { SpecProblem } from '../spec-problem';

const MIN_NODES = { ACTIVE_ACTIVE: 3, ACTIVE_PASSIVE: 2 } as const;

export function checkTopology(spec: ClusterSpec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const { mode, nodes } = spec.topology;
  if (nodes.length < MIN_NODES[mode]) {
    problems.push({
      path: 'topology.nodes',
      code: 'TOO_FEW_NODES',
      message: `${mode} needs at least ${MIN_NODES[mode]} nodes to survive the loss of one with quorum; the spec has ${nodes.length}.`,
      severity: 'error',
    });
  }
  const names = new Map<string, number>();
  nodes.forEach((node, i) => {
    const first = names.get(node.name);
    if (first === undefined) names.set(node.name, i);
    else
      problems.push({
        path: `topology.nodes[${i}].name`,
        code: 'DUPLICATE_NODE_NAME',
        message: `Node name "${node.name}" is already used by topology.nodes[${first}]; every node needs its own name.`,
        severity: 'error',
      });
  });
  const addresses = new Map<string, string>();
  nodes.forEach((node, i) => {
    for (const field of ['managementAddress', 'internalAddress'] as const) {
      const key = canonicalAddress(node[field]);
      const path = `topology.nodes[${i}].${field}`;
      const first = addresses.get(key);
      // One node may use the same address for management and internal traffic.
      if (first !== undefined && !first.startsWith(`topology.nodes[${i}].`)) {
        problems.push({
          path,
          code: 'DUPLICATE_NODE_ADDRESS',
          message: `${node[field]} is already the address of ${first}; each node needs its own addresses.`,
          severity: 'error',
        });
      } else if (first === undefined) addresses.set(key, path);
    }
  });
  return problems;
}
