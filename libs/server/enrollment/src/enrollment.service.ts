import type { JetStreamManager } from '@nats-io/jetstream';
import { storeRevision } from '@triad/clusters';
import { lockCluster } from '@triad/commands';
import { AuditActorType, ClusterRevision, EnrollmentToken, hashSecret, looksLikeSecret, Node, NodeStatus, isUniqueViolation, recordAudit, TenantScopedRepository, tenantTransaction } from '@triad/db';
import type { Logger } from '@triad/logging';
import { NAME_PATTERN, specNodeNames, specWithNewNode, validateClusterSpec, type ClusterSpec } from '@triad/spec';
import { agentInboxPrefix, COMMAND_STREAM, commandConsumerName, commandSubject, publicKeyFromPem, type EnrollRequest__Output, type EnrollResponse } from '@triad/protocol';
import type { DataSource, EntityManager } from 'typeorm';
import { AgentNatsCredentials } from './agent-nats-credentials';
import { EnrollmentRefusedException } from './enrollment.exception';
import { ensureNodeCommandConsumer } from './node-command-consumer';

/** Node names follow the spec's node-name rule (`topology.nodes[].name`). */

export interface EnrollmentSettings {
  heartbeatIntervalMs: number;
  /** NATS URLs told to agents (NATS_AGENT_SERVERS). */
  natsAgentServers: string[];
  commandSigningPublicKeyPem: string;
  /** Mints agent user JWTs; absent on a no-auth NATS (dev), then agents get no JWT. */
  natsCredentials?: AgentNatsCredentials;
  /** Ensures TRIAD_COMMANDS exists before a node consumer is added to it. */
  ensureCommandStream: (jsm: JetStreamManager) => Promise<void>;
  commandStream?: string;
}

interface EnrolledNode {
  node: Node;
  /** False when an agent retried with the key it enrolled with (no new node, no use consumed). */
  created: boolean;
  /** The revision that added the node to the spec (scale-out), if enrolling did. */
  addedInRevision?: number;
}

/**
 * Exchanges an enrollment token for a node identity. The token is looked up by its sha256 and a
 * use is consumed atomically in the transaction that creates the node, so two agents racing for
 * the last use cannot both win and a refused enrollment gives the use back.
 */
export class EnrollmentService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly jetstreamManager: () => Promise<JetStreamManager>,
    private readonly settings: EnrollmentSettings,
    private readonly logger: Logger,
  ) {}

  async enroll(request: EnrollRequest__Output): Promise<EnrollResponse> {
    const input = this.validate(request);
    // The token names the tenant: this lookup by hash is the one read across tenants. Everything
    // after it runs under row-level security for that tenant.
    const tokenHash = hashSecret(input.token);
    const token = looksLikeSecret('enr', input.token) ? await this.dataSource.getRepository(EnrollmentToken).findOneBy({ tokenHash }) : null;
    if (!token) throw new EnrollmentRefusedException('TOKEN_UNKNOWN', 'the enrollment token is not known to this control plane');
    const { node, created, addedInRevision } = await tenantTransaction(this.dataSource, token.tenantId, (trx) => this.createNode(trx, token, input));
    const log = this.logger.child({ tenantId: node.tenantId, clusterId: node.clusterId, nodeId: node.id });

    // After the commit: NATS is transport. If it fails the agent retries, and the retry with the
    // same key finds its node without consuming another use.
    const jsm = await this.jetstreamManager();
    await this.settings.ensureCommandStream(jsm);
    await ensureNodeCommandConsumer(jsm, node.tenantId, node.id, this.stream);
    const userJwt = this.settings.natsCredentials && input.natsUserPublicKey ? await this.settings.natsCredentials.mintAgentUserJwt(node.id, input.natsUserPublicKey) : '';
    log.info({ nodeName: node.name, created, addedInRevision, natsJwt: userJwt !== '' }, created ? 'node enrolled' : 'node re-sent its enrollment');

    return {
      nodeId: node.id,
      tenantId: node.tenantId,
      clusterId: node.clusterId,
      nodeName: node.name,
      commandSigningPublicKeyPem: this.settings.commandSigningPublicKeyPem,
      heartbeatIntervalMs: this.settings.heartbeatIntervalMs,
      nats: {
        servers: this.settings.natsAgentServers,
        userJwt,
        stream: this.stream,
        consumer: commandConsumerName(node.id),
        subject: commandSubject(node.tenantId, node.id),
        inboxPrefix: agentInboxPrefix(node.id),
      },
    };
  }

  private get stream(): string {
    return this.settings.commandStream ?? COMMAND_STREAM;
  }

  private validate(request: EnrollRequest__Output): ValidRequest {
    const invalid = (message: string) => new EnrollmentRefusedException('INVALID_REQUEST', message);
    if (!request.token) throw invalid('enrollment token is missing');
    let publicKeyPem: string;
    try {
      publicKeyPem = publicKeyFromPem(request.publicKeyPem).export({ type: 'spki', format: 'pem' }).toString();
    } catch {
      throw invalid('public_key_pem must be an ed25519 public key in SPKI PEM form');
    }
    const facts = request.facts;
    if (!facts || !facts.hostname) throw invalid('facts.hostname is missing');
    if (!facts.agentVersion) throw invalid('facts.agent_version is missing');
    // Default name: the hostname's first label, lower-cased (controller-1.example.com → controller-1).
    const name = request.nodeName || facts.hostname.split('.')[0].toLowerCase();
    if (!NAME_PATTERN.test(name)) {
      throw invalid(`node name "${name}" is not valid: lower-case letters, digits and "-", starting with a letter, at most 63 characters`);
    }
    const natsUserPublicKey = request.natsUserPublicKey || undefined;
    if (natsUserPublicKey) {
      try {
        AgentNatsCredentials.assertUserNkey(natsUserPublicKey);
      } catch (e) {
        throw invalid(`nats_user_public_key: ${(e as Error).message}`);
      }
    } else if (this.settings.natsCredentials) {
      throw invalid('nats_user_public_key is required: this control plane issues NATS credentials per node');
    }
    return {
      token: request.token,
      publicKeyPem,
      name,
      natsUserPublicKey,
      facts: {
        hostname: facts.hostname,
        machineId: facts.machineId,
        addresses: facts.addresses,
        agentVersion: facts.agentVersion,
        versions: facts.versions,
        os: facts.os,
      },
    };
  }

  private async createNode(trx: EntityManager, token: EnrollmentToken, input: ValidRequest): Promise<EnrolledNode> {
    const tenantId = token.tenantId;
    const nodes = new TenantScopedRepository<Node>(trx, Node);
    const clusterId = token.clusterId ?? (await this.clusterForCloudToken(trx, token, input.name));

    const existing = await nodes.findOne(tenantId, { clusterId, name: input.name });
    if (existing && existing.status !== NodeStatus.DECOMMISSIONED) {
      // Public keys are public: a retry must present both keys the node enrolled with, or anyone
      // holding the spent token and the node's public key could get NATS credentials for a key
      // of their own and read (and ack away) this node's commands.
      const sameIdentity =
        existing.publicKeyPem === input.publicKeyPem && existing.natsUserPublicKey === (input.natsUserPublicKey ?? null) && existing.enrollmentTokenId === token.id;
      if (sameIdentity) {
        // The agent lost our answer and retried: same identity, no use consumed. A revoked or
        // expired token still says no.
        await this.consumeUse(trx, token, false);
        return { node: existing, created: false };
      }
      throw new EnrollmentRefusedException('NODE_NAME_TAKEN', `node "${input.name}" already exists in this cluster with another key; decommission it first or choose another name`);
    }

    await this.consumeUse(trx, token, true);
    const values = {
      clusterId,
      name: input.name,
      status: NodeStatus.PENDING,
      statusChangedAt: new Date(),
      publicKeyPem: input.publicKeyPem,
      natsUserPublicKey: input.natsUserPublicKey ?? null,
      facts: input.facts,
      agentVersion: input.facts.agentVersion,
      enrolledAt: new Date(),
      enrollmentTokenId: token.id,
    };
    let node: Node;
    if (existing) {
      // A rebuilt controller taking over a decommissioned node's name keeps the node id, so its
      // fencing generation stays monotonic.
      await nodes.update(tenantId, { id: existing.id }, { ...values, health: null, lastHeartbeatAt: null, appliedRevision: 0, appliedArtifacts: {} });
      node = (await nodes.findById(tenantId, existing.id)) as Node;
    } else {
      try {
        node = await nodes.insert(tenantId, values);
      } catch (e) {
        if (isUniqueViolation(e)) {
          throw new EnrollmentRefusedException('NODE_NAME_TAKEN', `node "${input.name}" was enrolled into this cluster at the same moment by another agent`);
        }
        throw e;
      }
    }
    await recordAudit(trx, tenantId, { type: AuditActorType.AGENT, id: node.id }, {
      action: existing ? 'node.reenrolled' : 'node.enrolled',
      targetType: 'node',
      targetId: node.id,
      detail: { name: node.name, clusterId, enrollmentTokenId: token.id, enrollmentTokenPrefix: token.prefix, hostname: input.facts.hostname, agentVersion: input.facts.agentVersion },
    });
    const addedInRevision = token.allowNewNodes ? await this.addToSpec(trx, token, clusterId, input) : undefined;
    return { node, created: true, addedInRevision };
  }

  /**
   * Scale-out: with a token that allows new nodes, a node its cluster's current spec does not
   * list is appended to it as a new revision (addresses from its facts), which the normal rollout
   * delivers: existing nodes first, the new one last. Runs in the enrollment transaction under
   * the cluster lock, so a refusal leaves no node, no revision and the token's use unspent.
   * Without a spec yet (bring-up: agents enroll before the first spec) nothing is added.
   */
  private async addToSpec(trx: EntityManager, token: EnrollmentToken, clusterId: string, input: ValidRequest): Promise<number | undefined> {
    const cluster = await lockCluster(trx, token.tenantId, clusterId);
    if (!cluster || cluster.currentRevision === 0) return undefined;
    const current = await new TenantScopedRepository(trx, ClusterRevision).findOne(token.tenantId, { clusterId, revision: cluster.currentRevision });
    if (!current) return undefined;
    const spec = current.spec as unknown as ClusterSpec;
    if (specNodeNames(spec).includes(input.name)) return undefined;

    const cannotJoin = (why: string) => new EnrollmentRefusedException('CANNOT_JOIN', `node "${input.name}" is not in cluster ${cluster.name}'s spec (revision ${cluster.currentRevision}) and cannot be added: ${why}`);
    const placed = specWithNewNode(spec, input.name, input.facts.addresses);
    if ('refusal' in placed) throw cannotJoin(placed.refusal);
    const validation = validateClusterSpec(placed.spec);
    if (!validation.spec) {
      const errors = validation.problems.filter((p) => p.severity === 'error').map((p) => `${p.path || 'spec'}: ${p.message}`);
      throw cannotJoin(`the spec with it would be invalid — ${errors.join('; ')}`);
    }
    const { revision } = await storeRevision(trx, token.tenantId, {
      clusterId,
      spec: validation.spec,
      expectedRevision: cluster.currentRevision,
      maxUnavailable: 1,
      createdByTokenId: null,
      actor: { type: AuditActorType.ENROLLMENT_TOKEN, id: token.id },
      audit: { action: 'cluster.spec.node_added', detail: { node: placed.node, enrollmentTokenPrefix: token.prefix, reportedAddresses: input.facts.addresses } },
    });
    return revision.revision;
  }

  /**
   * Takes one use of the token: a single conditional UPDATE, so the check and the increment
   * cannot be split by a concurrent enrollment. With `consume` false only validity is checked.
   */
  private async consumeUse(trx: EntityManager, token: EnrollmentToken, consume: boolean): Promise<void> {
    // TypeORM returns [rows, affected] for an UPDATE.
    const [, affected] = (await trx.query(
      `UPDATE enrollment_tokens SET uses = uses + $2
        WHERE id = $1 AND revoked_at IS NULL AND expires_at > now() AND (uses < max_uses OR $2 = 0)
        RETURNING id`,
      [token.id, consume ? 1 : 0],
    )) as [unknown[], number];
    if (affected === 1) return;
    const [current] = (await trx.query(`SELECT revoked_at, expires_at <= now() AS expired FROM enrollment_tokens WHERE id = $1`, [token.id])) as Array<{ revoked_at: Date | null; expired: boolean }>;
    if (!current) throw new EnrollmentRefusedException('TOKEN_UNKNOWN', 'the enrollment token is not known to this control plane');
    if (current.revoked_at) throw new EnrollmentRefusedException('TOKEN_REVOKED', `enrollment token ${token.prefix}… was revoked`);
    if (current.expired) throw new EnrollmentRefusedException('TOKEN_EXPIRED', `enrollment token ${token.prefix}… expired at ${token.expiresAt.toISOString()}`);
    throw new EnrollmentRefusedException('TOKEN_EXHAUSTED', `enrollment token ${token.prefix}… has been used ${token.maxUses} time(s), its limit`);
  }

  /** A cloud-wide token enrolls into the one cluster of that cloud whose current spec lists the node name. */
  private async clusterForCloudToken(trx: EntityManager, token: EnrollmentToken, name: string): Promise<string> {
    const rows = (await trx.query(
      `SELECT c.id FROM clusters c
         JOIN cluster_revisions r ON r.cluster_id = c.id AND r.revision = c.current_revision
        WHERE c.tenant_id = $1 AND c.cloud_id = $2
          AND r.spec -> 'topology' -> 'nodes' @> jsonb_build_array(jsonb_build_object('name', $3::text))`,
      [token.tenantId, token.cloudId, name],
    )) as Array<{ id: string }>;
    if (rows.length === 1) return rows[0].id;
    throw new EnrollmentRefusedException(
      'INVALID_REQUEST',
      rows.length === 0
        ? `this token is for a whole cloud and no cluster in it lists a node named "${name}"; add the node to a cluster spec or use a cluster token`
        : `this token is for a whole cloud and ${rows.length} clusters list a node named "${name}"; use a cluster token`,
    );
  }
}

interface ValidRequest {
  token: string;
  publicKeyPem: string;
  name: string;
  natsUserPublicKey?: string;
  facts: {
    hostname: string;
    machineId: string;
    addresses: string[];
    agentVersion: string;
    versions: Record<string, string>;
    os: string;
  };
}
