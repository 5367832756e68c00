import type * as grpc from '@grpc/grpc-js';
import type { Redis } from 'ioredis';
import { Node, NodeStatus, UUID_RE } from '@triad/db';
import { AGENT_AUTH_HEADERS, AGENT_AUTH_WINDOW_MS, publicKeyFromPem, verifyAgentAuth } from '@triad/protocol';
import type { DataSource } from 'typeorm';

export class AgentAuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentAuthError';
  }
}

/**
 * Authenticates a Connect stream: metadata signed with the node's own ed25519 key, inside the
 * clock window, with a nonce never seen before in that window (remembered in Redis).
 */
export class AgentAuthenticator {
  constructor(
    private readonly dataSource: DataSource,
    private readonly redis: Redis,
    private readonly redisPrefix: string,
  ) {}

  async authenticate(metadata: grpc.Metadata, now = Date.now()): Promise<Node> {
    const header = (name: string): string | undefined => {
      const v = metadata.get(name)[0];
      return typeof v === 'string' ? v : undefined;
    };
    const headers = {
      nodeId: header(AGENT_AUTH_HEADERS.nodeId),
      timestamp: header(AGENT_AUTH_HEADERS.timestamp),
      nonce: header(AGENT_AUTH_HEADERS.nonce),
      signature: header(AGENT_AUTH_HEADERS.signature),
    };
    if (!headers.nodeId || !UUID_RE.test(headers.nodeId)) throw new AgentAuthError('missing or malformed node id');
    // The node id is globally unique and the tenant is not known yet: this lookup is the one
    // deliberate cross-tenant read; everything after it uses node.tenantId.
    const node = await this.dataSource.getRepository(Node).findOneBy({ id: headers.nodeId });
    if (!node || !node.publicKeyPem) throw new AgentAuthError('unknown node');
    if (node.status === NodeStatus.DECOMMISSIONED) throw new AgentAuthError('node is decommissioned; enroll again');
    const check = verifyAgentAuth(headers, publicKeyFromPem(node.publicKeyPem), now);
    if (!check.ok) throw new AgentAuthError(check.reason);
    // Remember the nonce for twice the window: a timestamp is accepted up to a window either side.
    const fresh = await this.redis.set(`${this.redisPrefix}fleet:nonce:${node.id}:${check.nonce}`, '1', 'PX', 2 * AGENT_AUTH_WINDOW_MS, 'NX');
    if (fresh !== 'OK') throw new AgentAuthError('nonce already used (replayed request)');
    return node;
  }
}
