import { z } from 'zod';

/**
 * `detail_json` of a Galera node's ComponentHealth: the wsrep status the health model and the
 * full-outage election read (seqno and safe_to_bootstrap come from grastate.dat when mariadbd is down).
 */
export const galeraHealthDetailSchema = z.object({
  running: z.boolean(),
  /** wsrep_local_state: 1 Joining, 2 Donor/Desynced, 3 Joined, 4 Synced. */
  localState: z.number().int().optional(),
  localStateComment: z.string().optional(),
  /** Primary, non-Primary or Disconnected. */
  clusterStatus: z.string().optional(),
  clusterSize: z.number().int().optional(),
  expectedClusterSize: z.number().int().optional(),
  clusterStateUuid: z.string().optional(),
  /** wsrep_last_committed while running. */
  lastCommitted: z.number().int().optional(),
  ready: z.boolean().optional(),
  connected: z.boolean().optional(),
  grastate: z
    .object({
      uuid: z.string(),
      seqno: z.number().int(),
      safeToBootstrap: z.boolean(),
    })
    .optional(),
});
export type GaleraHealthDetail = z.infer<typeof galeraHealthDetailSchema>;

/** `detail_json` of a RabbitMQ node's ComponentHealth, from `rabbitmqctl cluster_status --formatter json`. */
export const rabbitmqHealthDetailSchema = z.object({
  node: z.string(),
  runningNodes: z.array(z.string()),
  expectedNodes: z.array(z.string()),
  diskNodes: z.array(z.string()),
  /** Node → the nodes it cannot see; empty when there is no partition. */
  partitions: z.record(z.string(), z.array(z.string())),
  /** Resource alarms (memory, disk) as `node: alarm`. */
  alarms: z.array(z.string()),
});
export type RabbitmqHealthDetail = z.infer<typeof rabbitmqHealthDetailSchema>;

/** `detail_json` of a node's HAProxy ComponentHealth, from `show stat`: per frontend and backend. */
export const haproxyHealthDetailSchema = z.object({
  frontends: z.array(z.object({ name: z.string(), status: z.string() })),
  backends: z.array(
    z.object({
      name: z.string(),
      status: z.string(),
      servers: z.array(z.object({ name: z.string(), status: z.string(), checkStatus: z.string() })),
    }),
  ),
});
export type HaproxyHealthDetail = z.infer<typeof haproxyHealthDetailSchema>;
