import type { ClusterNode, ClusterSpec } from '@triad/spec';

export class UnknownNodeError extends Error {
  constructor(
    readonly nodeName: string,
    readonly knownNodes: string[],
  ) {
    super(`Node "${nodeName}" is not in the cluster spec; known nodes: ${knownNodes.join(', ')}`);
    this.name = 'UnknownNodeError';
  }
}

export function findNode(spec: ClusterSpec, nodeName: string): ClusterNode {
  const node = spec.topology.nodes.find((n) => n.name === nodeName);
  if (!node) throw new UnknownNodeError(nodeName, spec.topology.nodes.map((n) => n.name));
  return node;
}

/** First line of every text artifact, so a person who opens the file knows not to edit it. */
export function renderedByTriad(spec: ClusterSpec, nodeName: string, comment: string): string {
  return `${comment} Rendered by Triad for cluster ${spec.metadata.name}, node ${nodeName}. Do not edit: Triad overwrites this file.\n`;
}
