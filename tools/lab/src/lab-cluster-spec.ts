import { DEFAULT_HOST_PROFILE, type HostProfile } from '@triad/render';
import { validateClusterSpec, type ClusterSpec, type ClusterSpecInput } from '@triad/spec';
import type { Lab } from './lab';

/**
 * The default paths work in a lab controller (the anchor mounts per-node directories over them).
 * HAProxy: no syslog (it logs nothing); the Pacemaker clone runs it with a master socket, through
 * which the controller's Triad agent (external mode) reloads it; `maxconn` 4096 because the
 * rendered 20480 needs ~41000 open files and this machine's limit is 20000. The lab's agents are
 * configured to render with exactly this profile (`Lab.spawnAgent`).
 */
export const LAB_HOST_PROFILE: HostProfile = {
  ...DEFAULT_HOST_PROFILE,
  haproxy: { ...DEFAULT_HOST_PROFILE.haproxy, logTarget: undefined, masterSocket: '/run/haproxy/master.sock', maxconn: 4096 },
};

/**
 * A ClusterSpec for a lab: its controllers as nodes (both networks on the lab subnet, VIPs from
 * .10 up), and the settings a lab needs: no fencing devices (nothing to fence with), no Corosync
 * crypto, a short token and DC dead time so tests are fast, HAProxy through ocf:heartbeat:anything
 * (no systemd). Throws with the validator's problems if the result is not a valid spec.
 */
export function labClusterSpec(lab: Pick<Lab, 'name' | 'gatewayAddress' | 'controllers'>, overrides: Partial<ClusterSpecInput> = {}): ClusterSpec {
  const subnet = lab.gatewayAddress.replace(/\.254$/, '');
  const input: ClusterSpecInput = {
    apiVersion: 'triad.io/v1',
    metadata: { name: lab.name },
    topology: {
      mode: 'ACTIVE_ACTIVE',
      nodes: lab.controllers.map((c) => ({ name: c.name, managementAddress: c.address, internalAddress: c.address })),
      networks: {
        public: { cidr: `${subnet}.0/24`, nic: 'eth0' },
        internal: { cidr: `${subnet}.0/24`, nic: 'eth0' },
      },
    },
    services: [
      { name: 'keystone', vip: `${subnet}.10` },
      { name: 'glance-api', vip: `${subnet}.11` },
      { name: 'nova-api', vip: `${subnet}.12` },
    ],
    galera: { clusterName: `${lab.name}-galera`, vip: `${subnet}.100` },
    rabbitmq: { erlangCookie: { secretRef: 'rabbitmq-erlang-cookie' } },
    pacemaker: {
      properties: { stonithEnabled: false, dcDeadtime: '5s' },
      haproxyResource: { kind: 'anything' },
    },
    corosync: { transport: 'knet', tokenMs: 1000, crypto: { cipher: 'none', hash: 'none' } },
    acknowledgedWarnings: ['STONITH_DISABLED'],
    ...overrides,
  };
  const { spec, problems } = validateClusterSpec(input);
  if (!spec) throw new Error(`lab spec is invalid: ${problems.map((p) => `${p.path} ${p.code} ${p.message}`).join('; ')}`);
  return spec;
}
