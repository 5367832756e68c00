import { z } from 'zod';
import { isCidr, isIpAddress } from './addresses';

/**
 * The ClusterSpec model. The schema checks shape and single fields (names, addresses, enums);
 * rules that relate several fields live in `rules/` and run on the parsed spec.
 * Every default here is explained in docs/defaults.md.
 */

/**
 * Names reach file names, Pacemaker ids and process arguments: lower-case letters, digits and
 * dashes only, starting with a letter, so none can carry a path, a shell word or whitespace.
 */
export const NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
const NAME_HINT = 'must start with a lower-case letter and hold only a-z, 0-9 and "-" (at most 63)';

export const nameSchema = z.string().regex(NAME_PATTERN, { error: NAME_HINT });

export const ipAddressSchema = z
  .string()
  .refine(isIpAddress, { error: 'is not a valid IPv4 or IPv6 address', params: { code: 'BAD_ADDRESS' } });

const cidrSchema = z
  .string()
  .refine(isCidr, { error: 'is not a CIDR such as 10.0.0.0/24', params: { code: 'BAD_CIDR' } });

const portSchema = z.number().int().min(1).max(65535);

/** A duration as HAProxy and Pacemaker read it: `500ms`, `10s`, `2m`, `1h`, `15min`. */
const durationSchema = z
  .string()
  .regex(/^\d+(ms|s|m|min|h|d)?$/, { error: 'must be a duration such as 10s, 2m or 15min' });

/** Secrets are never stored in a spec, only the name of a secret the agent resolves on the node. */
export const secretRefSchema = z
  .strictObject({ secretRef: nameSchema.describe('Name of a secret held on the node, never the secret itself') })
  .describe('A reference to a secret: { secretRef: name }');
export type SecretRef = z.infer<typeof secretRefSchema>;

const nodeSchema = z.strictObject({
  name: nameSchema.describe('Pacemaker/Corosync node name (the host name of the controller)'),
  managementAddress: ipAddressSchema.describe('Address for Corosync and the Triad agent'),
  internalAddress: ipAddressSchema.describe('Address OpenStack services, Galera and RabbitMQ listen on'),
});

const networkSchema = z.strictObject({
  cidr: cidrSchema.describe('Subnet the VIPs of this network live in; gives IPaddr2 its cidr_netmask'),
  vip: ipAddressSchema.optional().describe('Shared VIP for services of this network that have no VIP of their own'),
  nic: nameSchema.optional().describe('Interface IPaddr2 puts the VIP on; found from the routing table when unset'),
});

export const topologySchema = z.strictObject({
  mode: z.enum(['ACTIVE_ACTIVE', 'ACTIVE_PASSIVE']),
  // Corosync's practical limit; it also bounds the work of rendering and the what-if.
  nodes: z.array(nodeSchema).min(1).max(32),
  networks: z.strictObject({ public: networkSchema, internal: networkSchema }),
});

const timeoutsSchema = z.strictObject({
  client: durationSchema.optional(),
  server: durationSchema.optional(),
  connect: durationSchema.optional(),
  tunnel: durationSchema.optional(),
});

export const serviceSchema = z.strictObject({
  name: nameSchema.describe('A service from the catalogue (docs/spec.md lists them)'),
  vip: ipAddressSchema.optional().describe("The service's own VIP; without it the network's shared VIP"),
  network: z.enum(['public', 'internal']).optional().describe('Network whose subnet holds the VIP'),
  port: portSchema.optional().describe('Port HAProxy listens on'),
  backendPort: portSchema.optional().describe('Port the service listens on on each node (defaults to port)'),
  healthCheckPath: z
    .string()
    // No quote: HAProxy's config parser would read it as the start of a quoted string.
    .regex(/^\/[A-Za-z0-9._~!$&()*+,;=:@/?%-]*$/, { error: 'must be an absolute URL path without spaces or quotes' })
    .optional(),
  balance: z.enum(['roundrobin', 'leastconn', 'source']).optional(),
  timeouts: timeoutsSchema.optional(),
});

export const galeraSchema = z.strictObject({
  clusterName: nameSchema.default('galera-cluster').describe('wsrep_cluster_name'),
  vip: ipAddressSchema.optional().describe('VIP for the MySQL frontend; without it the shared VIP of `network`'),
  network: z.enum(['public', 'internal']).default('internal'),
  port: portSchema.default(3306),
  sstMethod: z.enum(['rsync', 'mariabackup']).default('rsync'),
  sstPassword: secretRefSchema.optional().describe('Password of the mariabackup SST user (mariabackup only)'),
  gcacheSize: z
    .string()
    .regex(/^\d+[KMG]?$/, { error: 'must be a size such as 512M or 1G' })
    .default('512M'),
  slaveThreads: z.number().int().min(1).max(512).default(4),
  maxConnections: z.number().int().min(10).max(100000).default(4096),
  innodbFlushLogAtTrxCommit: z
    .union([z.literal(0), z.literal(1), z.literal(2)])
    .default(2)
    .describe('2 flushes the redo log once a second: a crashed node is refilled by Galera (SST/IST), so TripleO trades that durability for write speed'),
  evs: z
    .strictObject({
      // Bounds Galera enforces against its other defaults (checked on a real node): the 1 s
      // keepalive must fit three times into suspect_timeout, and install_timeout (half of
      // inactive_timeout) may not be under the 1 s join retransmission period.
      suspectTimeoutMs: z.number().int().min(3001).max(600000).optional().describe('evs.suspect_timeout: silence after which a peer is suspected (> 3 s)'),
      inactiveTimeoutMs: z.number().int().min(2000).max(600000).optional().describe('evs.inactive_timeout: silence after which a peer is dropped (>= 2 s)'),
    })
    .optional()
    .describe('Galera group-membership timeouts; Galera defaults (PT5S / PT15S) when unset'),
  clustercheckPort: portSchema.default(9200).describe('HTTP port the agent answers Galera health on'),
  arbitrator: z
    .strictObject({ address: ipAddressSchema.describe('Address of the garbd arbitrator') })
    .optional(),
});

export const rabbitmqSchema = z.strictObject({
  partitionHandling: z.enum(['pause_minority', 'autoheal', 'ignore']).default('pause_minority'),
  queueType: z.enum(['quorum', 'classic-mirrored']).default('quorum'),
  haPolicyPattern: z
    .string()
    // The rabbitmq-cluster agent passes set_policy unquoted: whitespace would split the pattern
    // into several rabbitmqctl arguments (it does not eval, so other characters are safe).
    .regex(/^\S+$/, { error: 'must be a regular expression without whitespace' })
    .min(1)
    .default('^(?!amq\\.).*')
    .describe('Queues the classic-mirrored policy covers'),
  netTickTime: z.number().int().min(1).max(600).default(15),
  port: portSchema.default(5672),
  distributionPort: portSchema.default(25672),
  erlangCookie: secretRefSchema.describe('Shared Erlang cookie, as a secret reference'),
  memoryHighWatermark: z
    .number()
    .min(0.1)
    .max(0.9)
    .default(0.4)
    .describe('vm_memory_high_watermark.relative: share of RAM at which RabbitMQ blocks publishers'),
});

const fenceParamValue = z.union([z.string(), z.number(), z.boolean(), secretRefSchema]);

const fencingDeviceSchema = z.strictObject({
  name: nameSchema,
  agent: z.string().regex(/^fence_[a-z0-9_]+$/, { error: 'must be a fence agent name such as fence_ipmilan' }),
  params: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/, { error: 'must be a parameter name' }), fenceParamValue).default({}),
  nodes: z.array(nameSchema).min(1).describe('Nodes this device can fence (pcmk_host_list)'),
});

const fencingLevelSchema = z.strictObject({
  node: nameSchema,
  index: z.number().int().min(1).max(9),
  devices: z.array(nameSchema).min(1),
});

export const pacemakerSchema = z.strictObject({
  properties: z
    .strictObject({
      stonithEnabled: z.boolean().default(true),
      noQuorumPolicy: z.enum(['stop', 'freeze', 'ignore', 'demote', 'suicide']).default('stop'),
      clusterRecheckInterval: durationSchema.default('15min'),
      dcDeadtime: durationSchema.default('20s'),
    })
    .prefault({}),
  resourceStickiness: z.union([z.literal('INFINITY'), z.number().int().min(0)]).default(1),
  haproxyResource: z
    .discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('systemd'), unit: nameSchema.default('haproxy') }),
      z.strictObject({
        kind: z.literal('anything'),
        // An absolute path without `..` segments or characters a shell would read.
        binfile: z
          .string()
          .regex(/^(\/(?!\.\.?(\/|$))[A-Za-z0-9._-]+)+$/, { error: 'must be an absolute path such as /usr/sbin/haproxy' })
          .default('/usr/sbin/haproxy'),
      }),
    ])
    .prefault({ kind: 'systemd' })
    .describe('How Pacemaker runs HAProxy: systemd:haproxy, or ocf:heartbeat:anything (labs without systemd)'),
  fencing: z
    .strictObject({
      devices: z.array(fencingDeviceSchema).default([]),
      levels: z.array(fencingLevelSchema).default([]),
    })
    .prefault({}),
  maintenance: z
    .strictObject({
      cluster: z.boolean().default(false).describe('maintenance-mode: Pacemaker stops managing every resource'),
      nodes: z.array(nameSchema).default([]).describe('Nodes in maintenance'),
    })
    .prefault({}),
});

export const corosyncSchema = z.strictObject({
  transport: z.enum(['knet', 'udpu']).default('knet'),
  tokenMs: z.number().int().min(100).max(300000).default(10000),
  crypto: z
    .strictObject({
      cipher: z.enum(['none', 'aes256', 'aes192', 'aes128']).default('aes256'),
      hash: z.enum(['none', 'sha256', 'sha384', 'sha512', 'sha1', 'md5']).default('sha256'),
    })
    .prefault({}),
});

export const clusterSpecSchema = z
  .strictObject({
    apiVersion: z.literal('triad.io/v1'),
    kind: z.literal('ClusterSpec').default('ClusterSpec'),
    metadata: z.strictObject({ name: nameSchema.describe('Cluster name (Corosync cluster_name)') }),
    topology: topologySchema,
    services: z.array(serviceSchema).default([]),
    galera: galeraSchema.prefault({}),
    rabbitmq: rabbitmqSchema,
    pacemaker: pacemakerSchema.prefault({}),
    corosync: corosyncSchema.prefault({}),
    acknowledgedWarnings: z.array(z.string().regex(/^[A-Z][A-Z0-9_]*$/)).default([]),
  })
  .describe('Triad ClusterSpec (apiVersion triad.io/v1)');

export type ClusterSpec = z.output<typeof clusterSpecSchema>;
export type ClusterSpecInput = z.input<typeof clusterSpecSchema>;
export type ClusterNode = ClusterSpec['topology']['nodes'][number];
export type ServiceSpec = ClusterSpec['services'][number];
export type GaleraSpec = ClusterSpec['galera'];
export type RabbitmqSpec = ClusterSpec['rabbitmq'];
export type PacemakerSpec = ClusterSpec['pacemaker'];
export type CorosyncSpec = ClusterSpec['corosync'];
export type FencingDevice = PacemakerSpec['fencing']['devices'][number];
