import { validateClusterSpec, type ClusterSpec, type ClusterSpecInput } from '@triad/spec';

export interface LabSpecOptions {
  name?: string;
  /** Internal (= management) address of each node, in order; nodes are named controller-1… */
  addresses: string[];
  galera?: ClusterSpecInput['galera'];
  rabbitmq?: Partial<ClusterSpecInput['rabbitmq']>;
  /** Acknowledged on top of STONITH_DISABLED, e.g. EVEN_GALERA_MEMBERSHIP for a 4-node lab. */
  acknowledgedWarnings?: string[];
}

/**
 * A valid ClusterSpec for nodes that all live on one machine (loopback addresses): no services,
 * no fencing (acknowledged), defaults filled in. Throws with the problems when it is not valid.
 */
export function labClusterSpec(opts: LabSpecOptions): ClusterSpec {
  const input: ClusterSpecInput = {
    apiVersion: 'triad.io/v1',
    metadata: { name: opts.name ?? 'lab' },
    topology: {
      mode: 'ACTIVE_ACTIVE',
      nodes: opts.addresses.map((address, i) => ({ name: `controller-${i + 1}`, managementAddress: address, internalAddress: address })),
      // A VIP is required for the Galera frontend; nothing in a lab binds it.
      networks: { public: { cidr: '127.0.0.0/8' }, internal: { cidr: '127.0.0.0/8', vip: '127.0.0.100' } },
    },
    galera: opts.galera,
    rabbitmq: { erlangCookie: { secretRef: 'rabbitmq-erlang-cookie' }, ...opts.rabbitmq },
    pacemaker: { properties: { stonithEnabled: false } },
    acknowledgedWarnings: ['STONITH_DISABLED', ...(opts.acknowledgedWarnings ?? [])],
  };
  const { spec, problems } = validateClusterSpec(input);
  if (!spec) throw new Error(`lab spec is not valid: ${JSON.stringify(problems)}`);
  return spec;
}

/** `count` distinct loopback addresses 127.<a>.<b>.11…: random a/b keep concurrent labs apart. */
export function labLoopbackAddresses(count: number): string[] {
  const a = 100 + Math.floor(Math.random() * 150);
  const b = Math.floor(Math.random() * 250);
  return Array.from({ length: count }, (_, i) => `127.${a}.${b}.${11 + i}`);
}
