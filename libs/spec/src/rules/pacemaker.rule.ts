import type { ClusterSpec } from '../cluster-spec.schema';
import type { SpecProblem } from '../spec-problem';


/**
 * Fence parameters reach the fence agent, which runs as root. Some of its options run a command
 * (`passwd_script`), choose the binary it runs (`ipmitool_path`) or a file it writes
 * (`debug_file`); any of those in a spec would let whoever may edit the spec run code on every
 * controller. So only parameters that describe how to reach and log in to the fence device are
 * accepted, and their values may not carry shell or line syntax.
 */
export const ALLOWED_FENCE_PARAMS = new Set([
  // where the device is and how to talk to it
  'ip', 'ipaddr', 'ipport', 'port', 'plug', 'lanplus', 'auth', 'cipher', 'privlvl', 'method', 'hexadecimal_kg',
  'ssl', 'ssl_secure', 'ssl_insecure', 'notls', 'inet4_only', 'inet6_only', 'api_version', 'uuid',
  // credentials (secret references only; see the SECRET_INLINE rule)
  'username', 'login', 'password', 'passwd', 'community', 'snmp_priv_passwd', 'access_key', 'secret_key', 'apikey',
  'snmp_version', 'snmp_auth_prot', 'snmp_sec_level', 'snmp_priv_prot',
  // cloud fence agents
  'region', 'zone', 'project', 'organization', 'tenant_name', 'auth_url', 'project_domain_name', 'user_domain_name',
  // timing and actions
  'power_timeout', 'power_wait', 'shell_timeout', 'login_timeout', 'retry_on', 'delay',
  'pcmk_delay_base', 'pcmk_delay_max', 'pcmk_reboot_action', 'pcmk_reboot_timeout', 'pcmk_off_timeout', 'pcmk_monitor_timeout',
  // read by Pacemaker's fencer (node → plug), checked by its own pattern below
  'pcmk_host_map',
]);

/** `node:plug;node:plug` as Pacemaker's pcmk_host_map expects. */
const HOST_MAP_VALUE = /^[a-z][a-z0-9-]{0,62}:[A-Za-z0-9._-]+(;[a-z][a-z0-9-]{0,62}:[A-Za-z0-9._-]+)*$/;

/** Values: addresses, names, URLs, numbers. No whitespace, quotes, `;`, `$`, backticks, pipes or redirections. */
const SAFE_PARAM_VALUE = /^[A-Za-z0-9._:@/+=,%-]*$/;

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
      const path = `pacemaker.fencing.devices[${i}].params.${key}`;
      if (!ALLOWED_FENCE_PARAMS.has(key))
        problems.push({
          path,
          code: 'FENCE_PARAM_NOT_ALLOWED',
          message: `Fence parameter "${key}" is not accepted: only parameters that say how to reach and log in to the device are (e.g. ip, ipport, username, password, lanplus, pcmk_delay_max); options that run commands or choose files (such as *_script, *_path, debug_file) are never passed to a fence agent.`,
          severity: 'error',
        });
      else if (key === 'pcmk_host_map' && (typeof value !== 'string' || !HOST_MAP_VALUE.test(value)))
        problems.push({
          path,
          code: 'UNSAFE_VALUE',
          message: `${path} must be node:plug pairs separated by ";" (e.g. "controller-1:1;controller-2:2").`,
          severity: 'error',
        });
      else if (key !== 'pcmk_host_map' && typeof value === 'string' && !SAFE_PARAM_VALUE.test(value))
        problems.push({
          path,
          code: 'UNSAFE_VALUE',
          message: `${path} may contain only letters, digits and . _ : @ / + = , % -; whitespace, quotes and shell characters would reach a fence agent running as root.`,
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
