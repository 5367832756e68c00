import { canonicalAddress, cidrContains, parseCidr } from '../addresses';
import type { ClusterSpec } from '../cluster-spec.schema';
import { resolveGaleraFrontend, resolveService } from '../resolve';
import { CATALOGUE_SERVICE_NAMES, isCatalogueService, type NetworkName } from '../service-catalogue';
import type { SpecProblem } from '../spec-problem';

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

interface Frontend {
  label: string;
  /** Path of the field that sets the VIP (or that should, when it is missing). */
  vipPath: string;
  portPath: string;
  vip: string | undefined;
  sharedVip: boolean;
  network: NetworkName;
  port: number;
}

function frontends(spec: ClusterSpec): Frontend[] {
  const list: Frontend[] = [];
  spec.services.forEach((service, i) => {
    if (!isCatalogueService(service.name)) return;
    const r = resolveService(spec, service);
    list.push({
      label: `service ${r.name}`,
      vipPath: `services[${i}].vip`,
      portPath: `services[${i}].port`,
      vip: r.vip,
      sharedVip: r.sharedVip,
      network: r.network,
      port: r.port,
    });
  });
  const g = resolveGaleraFrontend(spec);
  list.push({ label: 'the galera frontend', vipPath: 'galera.vip', portPath: 'galera.port', ...g });
  return list;
}

export function checkServices(spec: ClusterSpec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const seen = new Map<string, number>();
  spec.services.forEach((service, i) => {
    if (!isCatalogueService(service.name)) {
      problems.push({
        path: `services[${i}].name`,
        code: 'UNKNOWN_SERVICE',
        message: `"${service.name}" is not a known service; use one of ${CATALOGUE_SERVICE_NAMES.join(', ')}.`,
        severity: 'error',
      });
      return;
    }
    const first = seen.get(service.name);
    if (first !== undefined) {
      problems.push({
        path: `services[${i}].name`,
        code: 'DUPLICATE_SERVICE',
        message: `Service "${service.name}" is already enabled at services[${first}]; list each service once.`,
        severity: 'error',
      });
    } else seen.set(service.name, i);
  });
  return [...problems, ...checkVips(spec), ...checkFrontendPorts(spec)];
}

function checkVips(spec: ClusterSpec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const { networks, nodes } = spec.topology;
  const nodeAddresses = new Map<string, string>();
  nodes.forEach((n) => {
    nodeAddresses.set(canonicalAddress(n.managementAddress), n.name);
    nodeAddresses.set(canonicalAddress(n.internalAddress), n.name);
  });

  const outOfSubnet = (path: string, vip: string, network: NetworkName): void => {
    const cidr = parseCidr(networks[network].cidr);
    if (cidr && !cidrContains(cidr, vip)) {
      problems.push({
        path,
        code: 'VIP_OUT_OF_SUBNET',
        message: `VIP ${vip} is outside the ${network} network ${networks[network].cidr}; pick an address inside it or change the network.`,
        severity: 'error',
      });
    }
  };
  const onNode = (path: string, vip: string): void => {
    const node = nodeAddresses.get(canonicalAddress(vip));
    if (node !== undefined) {
      problems.push({
        path,
        code: 'VIP_IS_NODE_ADDRESS',
        message: `VIP ${vip} is an address of node ${node}; a VIP must be a free address that can move between nodes.`,
        severity: 'error',
      });
    }
  };

  // Own VIPs: one per frontend; a shared VIP is shared by leaving the field out.
  const owners = new Map<string, string>();
  for (const network of ['public', 'internal'] as const) {
    const vip = networks[network].vip;
    if (vip === undefined) continue;
    const path = `topology.networks.${network}.vip`;
    outOfSubnet(path, vip, network);
    onNode(path, vip);
    const first = owners.get(canonicalAddress(vip));
    if (first !== undefined)
      problems.push({
        path,
        code: 'DUPLICATE_VIP',
        message: `VIP ${vip} is already used by ${first}; give each VIP its own address.`,
        severity: 'error',
      });
    else owners.set(canonicalAddress(vip), `the shared ${network} VIP`);
  }
  for (const f of frontends(spec)) {
    if (f.vip === undefined) {
      problems.push({
        path: f.vipPath,
        code: 'SERVICE_WITHOUT_VIP',
        message: `${capitalized(f.label)} has no VIP: set ${f.vipPath} or a shared VIP at topology.networks.${f.network}.vip.`,
        severity: 'error',
      });
      continue;
    }
    if (f.sharedVip) continue;
    outOfSubnet(f.vipPath, f.vip, f.network);
    onNode(f.vipPath, f.vip);
    const key = canonicalAddress(f.vip);
    const first = owners.get(key);
    if (first !== undefined) {
      problems.push({
        path: f.vipPath,
        code: 'DUPLICATE_VIP',
        message: `VIP ${f.vip} is already used by ${first}; give each its own VIP, or remove ${f.vipPath} to use the shared ${f.network} VIP.`,
        severity: 'error',
      });
    } else owners.set(key, f.label);
  }
  return problems;
}

/** Two frontends on one VIP and port would fight for the same socket in HAProxy. */
function checkFrontendPorts(spec: ClusterSpec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const bound = new Map<string, string>();
  for (const f of frontends(spec)) {
    if (f.vip === undefined) continue;
    const key = `${canonicalAddress(f.vip)}:${f.port}`;
    const first = bound.get(key);
    if (first !== undefined) {
      problems.push({
        path: f.portPath,
        code: 'PORT_COLLISION',
        message: `${capitalized(f.label)} listens on ${f.vip}:${f.port}, already taken by ${first}; change the port or give it its own VIP.`,
        severity: 'error',
      });
    } else bound.set(key, f.label);
  }
  return problems;
}
