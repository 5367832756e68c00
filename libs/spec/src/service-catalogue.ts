/**
 * The OpenStack API services Triad knows how to put behind HAProxy, with the defaults TripleO and
 * Kolla-Ansible ship. A spec enables a service by name and may override any field.
 * `docs/defaults.md` explains each choice.
 */
export type BalanceMode = 'roundrobin' | 'leastconn' | 'source';
export type NetworkName = 'public' | 'internal';

export interface ServiceTimeouts {
  /** HAProxy time strings, e.g. `2m`, `10s`. */
  client?: string;
  server?: string;
  connect?: string;
  /** Idle timeout once a connection is upgraded (websockets: novncproxy). */
  tunnel?: string;
}

export interface CatalogueEntry {
  port: number;
  healthCheckPath: string;
  balance: BalanceMode;
  network: NetworkName;
  timeouts: ServiceTimeouts;
  description: string;
}

export const SERVICE_CATALOGUE = {
  keystone: {
    port: 5000,
    healthCheckPath: '/v3',
    balance: 'roundrobin',
    network: 'public',
    timeouts: {},
    description: 'Identity (public endpoint)',
  },
  'keystone-admin': {
    port: 35357,
    healthCheckPath: '/v3',
    balance: 'roundrobin',
    network: 'internal',
    timeouts: {},
    description: 'Identity (admin endpoint)',
  },
  'glance-api': {
    port: 9292,
    healthCheckPath: '/healthcheck',
    balance: 'leastconn',
    network: 'public',
    // Image uploads and downloads hold a connection for minutes.
    timeouts: { client: '10m', server: '10m' },
    description: 'Image service',
  },
  'nova-api': {
    port: 8774,
    healthCheckPath: '/',
    balance: 'roundrobin',
    network: 'public',
    timeouts: {},
    description: 'Compute API',
  },
  'nova-metadata': {
    port: 8775,
    healthCheckPath: '/',
    balance: 'roundrobin',
    network: 'internal',
    timeouts: {},
    description: 'Compute metadata API (reached by instances through neutron)',
  },
  'nova-novncproxy': {
    port: 6080,
    healthCheckPath: '/vnc_auto.html',
    balance: 'source',
    network: 'public',
    // A console is a websocket that stays open while the user watches it.
    timeouts: { tunnel: '1h' },
    description: 'Browser VNC console proxy',
  },
  placement: {
    port: 8778,
    healthCheckPath: '/',
    balance: 'roundrobin',
    network: 'internal',
    timeouts: {},
    description: 'Placement API',
  },
  'neutron-server': {
    port: 9696,
    healthCheckPath: '/',
    balance: 'roundrobin',
    network: 'public',
    timeouts: {},
    description: 'Networking API',
  },
  'cinder-api': {
    port: 8776,
    healthCheckPath: '/healthcheck',
    balance: 'roundrobin',
    network: 'public',
    timeouts: {},
    description: 'Block storage API',
  },
  'heat-api': {
    port: 8004,
    healthCheckPath: '/healthcheck',
    balance: 'roundrobin',
    network: 'public',
    timeouts: {},
    description: 'Orchestration API',
  },
  'heat-cfn': {
    port: 8000,
    healthCheckPath: '/healthcheck',
    balance: 'roundrobin',
    network: 'public',
    timeouts: {},
    description: 'Orchestration CloudFormation-compatible API',
  },
  aodh: {
    port: 8042,
    healthCheckPath: '/healthcheck',
    balance: 'roundrobin',
    network: 'public',
    timeouts: {},
    description: 'Telemetry alarming (ceilometer/aodh)',
  },
  'swift-proxy': {
    port: 8080,
    healthCheckPath: '/healthcheck',
    balance: 'leastconn',
    network: 'public',
    // Object uploads and downloads can be large.
    timeouts: { client: '10m', server: '10m' },
    description: 'Object storage proxy',
  },
  horizon: {
    port: 80,
    healthCheckPath: '/',
    balance: 'source',
    network: 'public',
    timeouts: {},
    description: 'Dashboard (sessions stick to one backend)',
  },
} as const satisfies Record<string, CatalogueEntry>;

export type CatalogueServiceName = keyof typeof SERVICE_CATALOGUE;

export const CATALOGUE_SERVICE_NAMES = Object.keys(SERVICE_CATALOGUE).sort() as CatalogueServiceName[];

export function isCatalogueService(name: string): name is CatalogueServiceName {
  return Object.prototype.hasOwnProperty.call(SERVICE_CATALOGUE, name);
}
