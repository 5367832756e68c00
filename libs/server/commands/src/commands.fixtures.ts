// Test support (used by integration tests here and in apps/worker): a tenant with a cluster,
// enrolled nodes and revisions, written the way updateClusterSpec and enrollment write them.
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { Cloud, Cluster, ClusterRevision, Node, NodeStatus, OUTBOX_REVISION_CREATED, Outbox, Tenant, TenantScopedRepository, type ArtifactDigests } from '@triad/db';
import { specNodeNames, type ClusterSpec } from '@triad/spec';
import type { DataSource } from 'typeorm';
import { CommandSigner } from './command-signer';

export function testSigner(): CommandSigner {
  return new CommandSigner(generateKeyPairSync('ed25519').privateKey);
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

export class ClusterFixture {
  private constructor(
    private readonly ds: DataSource,
    readonly tenantId: string,
    readonly clusterId: string,
    /** Makes the spec of each new revision (tests pass `labClusterSpec` from @triad/testing). */
    private readonly makeSpec: () => ClusterSpec,
    readonly nodeNames: string[],
  ) {}

  /** A tenant, cloud and cluster (no revision yet). */
  static async create(ds: DataSource, makeSpec: () => ClusterSpec): Promise<ClusterFixture> {
    const tenant = await ds.getRepository(Tenant).save({ name: 'fixture', slug: `t-${randomBytes(6).toString('hex')}` });
    const cloud = await new TenantScopedRepository(ds.manager, Cloud).insert(tenant.id, { name: 'cloud' });
    const cluster = await new TenantScopedRepository(ds.manager, Cluster).insert(tenant.id, { cloudId: cloud.id, name: 'cluster' });
    return new ClusterFixture(ds, tenant.id, cluster.id, makeSpec, specNodeNames(makeSpec()));
  }

  /** An enrolled node (as enrollment leaves it), unless overridden. */
  async node(name: string, overrides: Partial<Pick<Node, 'status' | 'enrolledAt' | 'appliedRevision'>> = {}): Promise<Node> {
    return new TenantScopedRepository(this.ds.manager, Node).insert(this.tenantId, {
      clusterId: this.clusterId,
      name,
      status: NodeStatus.ONLINE,
      enrolledAt: new Date(),
      ...overrides,
    });
  }

  /** Enrolls the first `count` nodes of the spec. */
  async nodes(count = this.nodeNames.length): Promise<Node[]> {
    const nodes: Node[] = [];
    for (const name of this.nodeNames.slice(0, count)) nodes.push(await this.node(name));
    return nodes;
  }

  /**
   * Stores the next revision like updateClusterSpec: revision row, cluster.currentRevision and a
   * `cluster.revision.created` outbox row in one transaction. Returns the revision number.
   */
  async newRevision(): Promise<number> {
    const spec = this.makeSpec();
    return this.ds.transaction(async (trx) => {
      const clusters = new TenantScopedRepository(trx, Cluster);
      const cluster = (await clusters.findById(this.tenantId, this.clusterId)) as Cluster;
      const revision = cluster.currentRevision + 1;
      const artifactDigests: ArtifactDigests = Object.fromEntries(
        this.nodeNames.map((n) => [n, { 'haproxy.cfg': sha(`${n}/${revision}/haproxy`), 'cib.xml': sha(`${n}/${revision}/cib`) }]),
      );
      await new TenantScopedRepository(trx, ClusterRevision).insert(this.tenantId, {
        clusterId: this.clusterId,
        revision,
        spec: spec as unknown as Record<string, unknown>,
        specHash: sha(JSON.stringify(spec)),
        artifactDigests,
      });
      await clusters.update(this.tenantId, { id: this.clusterId }, { currentRevision: revision });
      await new TenantScopedRepository(trx, Outbox).insert(this.tenantId, {
        kind: OUTBOX_REVISION_CREATED,
        aggregateId: this.clusterId,
        payload: { clusterId: this.clusterId, revision },
      });
      return revision;
    });
  }
}
