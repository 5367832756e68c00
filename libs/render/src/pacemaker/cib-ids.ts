import type { ClusterNode } from '@triad/spec';

/** Pacemaker resource ids Triad renders; the what-if and the agent look resources up by these. */
export const CIB_IDS = {
  haproxy: 'haproxy',
  haproxyClone: 'haproxy-clone',
  galera: 'galera',
  galeraClone: 'galera-clone',
  rabbitmq: 'rabbitmq',
  rabbitmqClone: 'rabbitmq-clone',
} as const;

/** The name a node has inside Galera's gcomm list: its internal address. */
export function galeraNodeName(node: ClusterNode): string {
  return node.internalAddress;
}
