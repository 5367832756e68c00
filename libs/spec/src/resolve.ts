import { parseCidr } from './addresses';
import type { ClusterSpec, ServiceSpec } from './cluster-spec.schema';
import {
  isCatalogueService,
  SERVICE_CATALOGUE,
  type BalanceMode,
  type NetworkName,
  type ServiceTimeouts,
} from './service-catalogue';

/** A service with catalogue defaults and spec overrides merged: what the renderers read. */
export interface ResolvedService {
  name: string;
  /** Undefined only in a spec that failed validation (no own VIP and no shared VIP). */
  vip: string | undefined;
  /** True when the VIP is the network's shared VIP rather than the service's own. */
  sharedVip: boolean;
  network: NetworkName;
  port: number;
  backendPort: number;
  healthCheckPath: string;
  balance: BalanceMode;
  timeouts: ServiceTimeouts;
}

export function specNodeNames(spec: ClusterSpec): string[] {
  return spec.topology.nodes.map((node) => node.name);
}

export function resolveService(spec: ClusterSpec, service: ServiceSpec): ResolvedService {
  if (!isCatalogueService(service.name)) {
    throw new Error(`Service "${service.name}" is not in the catalogue`);
  }
  const entry = SERVICE_CATALOGUE[service.name];
  const network = service.network ?? entry.network;
  const port = service.port ?? entry.port;
  return {
    name: service.name,
    vip: service.vip ?? spec.topology.networks[network].vip,
    sharedVip: service.vip === undefined,
    network,
    port,
    backendPort: service.backendPort ?? port,
    healthCheckPath: service.healthCheckPath ?? entry.healthCheckPath,
    balance: service.balance ?? entry.balance,
    timeouts: { ...entry.timeouts, ...service.timeouts },
  };
}

/** Services in spec order, only those the catalogue knows (validation rejects the others). */
export function resolveServices(spec: ClusterSpec): ResolvedService[] {
  return spec.services.filter((s) => isCatalogueService(s.name)).map((s) => resolveService(spec, s));
}

export interface GaleraFrontend {
  vip: string | undefined;
  sharedVip: boolean;
  network: NetworkName;
  port: number;
  clustercheckPort: number;
}

export function resolveGaleraFrontend(spec: ClusterSpec): GaleraFrontend {
  const g = spec.galera;
  return {
    vip: g.vip ?? spec.topology.networks[g.network].vip,
    sharedVip: g.vip === undefined,
    network: g.network,
    port: g.port,
    clustercheckPort: g.clustercheckPort,
  };
}

/** One Pacemaker IPaddr2 resource: a VIP and everything that listens on it. */
export interface VipResource {
  /** Pacemaker resource id, e.g. `vip-keystone`, `vip-public` for a shared VIP. */
  id: string;
  address: string;
  network: NetworkName;
  cidrNetmask: number;
  nic: string | undefined;
  /** Frontend names on this VIP (`galera` for the MySQL frontend). */
  frontends: string[];
}

/** Every distinct VIP of a valid spec, in first-use order (shared VIPs named after their network). */
export function specVips(spec: ClusterSpec): VipResource[] {
  const frontends: { name: string; vip: string | undefined; sharedVip: boolean; network: NetworkName }[] = [
    ...resolveServices(spec),
    { name: 'galera', ...resolveGaleraFrontend(spec) },
  ];
  const byAddress = new Map<string, VipResource>();
  for (const f of frontends) {
    if (f.vip === undefined) continue;
    const existing = byAddress.get(f.vip);
    if (existing) {
      existing.frontends.push(f.name);
      continue;
    }
    const network = spec.topology.networks[f.network];
    byAddress.set(f.vip, {
      id: f.sharedVip ? `vip-${f.network}` : `vip-${f.name}`,
      address: f.vip,
      network: f.network,
      cidrNetmask: parseCidr(network.cidr)?.prefix ?? 32,
      nic: network.nic,
      frontends: [f.name],
    });
  }
  return [...byAddress.values()];
}
