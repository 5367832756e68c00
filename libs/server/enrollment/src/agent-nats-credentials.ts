import { decode, encodeUser, fromPublic, fromSeed, type User } from '@nats-io/jwt';
import { agentNatsPermissions } from '@triad/protocol';

/**
 * Mints NATS user JWTs for agents (operator/JWT mode). The control plane holds a signing key of
 * the application account, never the operator key. Each agent brings its own user nkey; the JWT
 * allows exactly `agentNatsPermissions(nodeId)`: its own consumer's API subjects and its inbox.
 */
export class AgentNatsCredentials {
  private readonly signingKey;

  /**
   * @param signingSeed account signing seed ("SA…"), or the account's own seed.
   * @param accountPublicKey the account ("A…") the signing key belongs to; omit when the seed is
   *   the account's identity key. Needed so the server knows which account the user is in.
   */
  constructor(
    signingSeed: string,
    private readonly accountPublicKey?: string,
  ) {
    this.signingKey = fromSeed(new TextEncoder().encode(signingSeed.trim()));
    if (!this.signingKey.getPublicKey().startsWith('A')) {
      throw new Error('NATS account signing seed must be an account seed (SA…)');
    }
    if (accountPublicKey !== undefined && !/^A[A-Z2-7]{55}$/.test(accountPublicKey)) {
      throw new Error('NATS account public key must be an account nkey (A…)');
    }
  }

  /** Throws when `key` is not a NATS user public nkey. */
  static assertUserNkey(key: string): void {
    if (!key.startsWith('U')) throw new Error('not a NATS user nkey (must start with "U")');
    fromPublic(key); // checks the checksum and encoding
  }

  async mintAgentUserJwt(nodeId: string, userPublicKey: string): Promise<string> {
    AgentNatsCredentials.assertUserNkey(userPublicKey);
    const perms = agentNatsPermissions(nodeId);
    const user: Partial<User> = {
      pub: { allow: perms.publish },
      sub: { allow: perms.subscribe },
    };
    const separateSigner = this.accountPublicKey !== undefined && this.accountPublicKey !== this.signingKey.getPublicKey();
    return separateSigner
      ? encodeUser(`node-${nodeId}`, userPublicKey, this.accountPublicKey as string, user, { signer: this.signingKey })
      : encodeUser(`node-${nodeId}`, userPublicKey, this.signingKey, user);
  }
}

/** The permissions a user JWT grants, for tests and diagnostics. */
export function natsUserPermissions(jwt: string): { publish: string[]; subscribe: string[] } {
  const claims = decode<User>(jwt);
  return { publish: claims.nats.pub?.allow ?? [], subscribe: claims.nats.sub?.allow ?? [] };
}
