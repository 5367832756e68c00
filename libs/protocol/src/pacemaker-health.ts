import { z } from 'zod';

/** `detail_json` of a node's Pacemaker ComponentHealth, from `crm_mon --output-as=xml` on that node. */
export const pacemakerHealthDetailSchema = z.object({
  /** The node the agent runs on (its Pacemaker node name). */
  node: z.string(),
  /** Designated controller, when one is elected. */
  dc: z.string().optional(),
  /** IPaddr2 resources (VIPs) running on this node. */
  heldVips: z.array(z.string()),
  /** Whether this node's partition has quorum. */
  quorate: z.boolean(),
  maintenanceMode: z.boolean(),
  stopAllResources: z.boolean(),
  stonithEnabled: z.boolean(),
  nodes: z.array(
    z.object({
      name: z.string(),
      id: z.string(),
      online: z.boolean(),
      standby: z.boolean(),
      maintenance: z.boolean(),
      unclean: z.boolean(),
      pending: z.boolean(),
      shutdown: z.boolean(),
      isDc: z.boolean(),
      resourcesRunning: z.number().int(),
    }),
  ),
  /** One entry per primitive instance (a clone's instances repeat its id); `parent` is the group/clone/bundle. */
  resources: z.array(
    z.object({
      id: z.string(),
      parent: z.string().optional(),
      agent: z.string(),
      role: z.string(),
      active: z.boolean(),
      managed: z.boolean(),
      failed: z.boolean(),
      blocked: z.boolean(),
      orphaned: z.boolean(),
      /** Nodes it runs on. */
      nodes: z.array(z.string()),
    }),
  ),
  failedActions: z.array(
    z.object({
      resource: z.string(),
      /** Pacemaker's operation key, `<resource>_<task>_<interval ms>`. */
      operation: z.string(),
      task: z.string(),
      node: z.string(),
      exitCode: z.number().int(),
      exitStatus: z.string(),
      exitReason: z.string(),
      intervalMs: z.number().int(),
      lastRcChange: z.string(),
      /** The resource's fail count on that node (from the node history), when known. */
      failCount: z.number().int().optional(),
    }),
  ),
});
export type PacemakerHealthDetail = z.infer<typeof pacemakerHealthDetailSchema>;

/** `detail_json` of a node's Corosync ComponentHealth, from `corosync-cfgtool -s` and `corosync-quorumtool -s`. */
export const corosyncHealthDetailSchema = z.object({
  nodeId: z.number().int(),
  transport: z.string().optional(),
  links: z.array(
    z.object({
      linkId: z.number().int(),
      address: z.string().optional(),
      /** Status of every node on this link as this node sees it: localhost, connected, disconnected… */
      peers: z.array(z.object({ nodeId: z.number().int(), status: z.string() })),
    }),
  ),
  /** Absent when votequorum did not answer. */
  quorum: z
    .object({
      quorate: z.boolean(),
      expectedVotes: z.number().int(),
      totalVotes: z.number().int(),
      quorum: z.number().int(),
      members: z.array(z.object({ nodeId: z.number().int(), votes: z.number().int(), name: z.string(), local: z.boolean() })),
    })
    .optional(),
});
export type CorosyncHealthDetail = z.infer<typeof corosyncHealthDetailSchema>;
