import type { ClusterSpec } from '../cluster-spec.schema';
import type { SpecProblem } from '../spec-problem';


/** Fence parameters reach the fence agent as `key=value` lines: a newline would add a parameter. */
const UNSAFE_PARAM_VALUE = /[\r\n\0]/;

export function checkPacemaker(spec: ClusterSpec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const { properties, fencing, maintenance } = spec.pacemaker;
  const nodeNames = new Set(spec.topology.nodes.map((n) => n.name));
  const unknownNode = (path: string, name: string): void => {
    if (!nodeNames.has(name))
      problems.push({
        path,
        code: 'UNKNOWN_NODE',
        message: `"${name}" is not a node of topology.nodes; use one of ${[...nodeNames].join(', ')}.`,
        severity: 'error',
      });
  };

  if (!properties.stonithEnabled) {
    problems.push({
      path: 'pacemaker.properties.stonithEnabled',
      code: 'STONITH_DISABLED',
      message:
        'STONITH is disabled: a hung node can keep a VIP or a Galera writer while another node takes it over (split brain); enable it, or add STONITH_DISABLED to acknowledgedWarnings to accept the risk.',
      severity: 'warning',
    });
  } else if (fencing.devices.length === 0) {
    problems.push({
      path: 'pacemaker.fencing.devices',
      code: 'FENCING_DEVICES_MISSING',
      message: 'STONITH is enabled but no fencing device is configured, so Pacemaker would start nothing; add pacemaker.fencing.devices.',
      severity: 'error',
    });
  }
  if (properties.noQuorumPolicy === 'ignore' && spec.topology.nodes.length > 2) {
    problems.push({
      path: 'pacemaker.properties.noQuorumPolicy',
      code: 'NO_QUORUM_POLICY_IGNORE',
      message:
        'no-quorum-policy "ignore" lets a partitioned minority keep running resources; use "stop", or add NO_QUORUM_POLICY_IGNORE to acknowledgedWarnings.',
      severity: 'warning',
    });
  }

  const devices = new Map<string, number>();
  fencing.devices.forEach((device, i) => {
    const first = devices.get(device.name);
    if (first !== undefined)
      problems.push({
        path: `pacemaker.fencing.devices[${i}].name`,
        code: 'DUPLICATE_FENCING_DEVICE',
        message: `Fencing device "${device.name}" is already defined at pacemaker.fencing.devices[${first}]; give each device its own name.`,
        severity: 'error',
      });
    else devices.set(device.name, i);
    device.nodes.forEach((node, j) => unknownNode(`pacemaker.fencing.devices[${i}].nodes[${j}]`, node));
    for (const [key, value] of Object.entries(device.params)) {
      if (typeof value === 'string' && UNSAFE_PARAM_VALUE.test(value))
        problems.push({
          path: `pacemaker.fencing.devices[${i}].params.${key}`,
          code: 'UNSAFE_VALUE',
          message: `pacemaker.fencing.devices[${i}].params.${key} contains a line break or NUL, which would inject fence agent parameters; remove it.`,
          severity: 'error',
        });
    }
  });

  if (properties.stonithEnabled && fencing.devices.length > 0) {
    for (const node of nodeNames) {
      if (!fencing.devices.some((d) => d.nodes.includes(node)))
        problems.push({
          path: 'pacemaker.fencing.devices',
          code: 'NODE_NOT_FENCEABLE',
          message: `No fencing device can fence node ${node}, so its failure would block recovery; add it to a device's nodes.`,
          severity: 'error',
        });
    }
  }

  const levels = new Map<string, number>();
  fencing.levels.forEach((level, i) => {
    const path = `pacemaker.fencing.levels[${i}]`;
    unknownNode(`${path}.node`, level.node);
    const key = `${level.node}#${level.index}`;
    const first = levels.get(key);
    if (first !== undefined)
      problems.push({
        path: `${path}.index`,
        code: 'DUPLICATE_FENCING_LEVEL',
        message: `Node ${level.node} already has fencing level ${level.index} at pacemaker.fencing.levels[${first}]; use another index.`,
        severity: 'error',
      });
    else levels.set(key, i);
    level.devices.forEach((name, j) => {
      const index = devices.get(name);
      if (index === undefined)
        problems.push({
          path: `${path}.devices[${j}]`,
          code: 'UNKNOWN_FENCING_DEVICE',
          message: `"${name}" is not a device in pacemaker.fencing.devices; define it or fix the name.`,
          severity: 'error',
        });
      else if (!fencing.devices[index].nodes.includes(level.node))
        problems.push({
          path: `${path}.devices[${j}]`,
          code: 'FENCING_DEVICE_CANNOT_FENCE',
          message: `Device "${name}" does not list node ${level.node} in its nodes, so this level can never fence it; add the node to the device.`,
          severity: 'error',
        });
    });
  });

  maintenance.nodes.forEach((node, i) => unknownNode(`pacemaker.maintenance.nodes[${i}]`, node));

  return problems;
}
