import { Inject, Injectable } from '@nestjs/common';
import { auditActorOf, type Principal } from '@triad/auth';
import { Cluster, ClusterRevision, Command, Node, TenantScopedRepository, isUniqueViolation, recordAudit, type Page, type PageRequest, tenantTransaction } from '@triad/db';
import { DataSource } from 'typeorm';
import { CloudService } from './cloud.service';
import { ClusterException, ClusterExceptionCode, notFound } from './clusters.exception';
import { checkName } from './input-checks';

/** Clusters and what hangs off them for reading: revisions, nodes, commands. */
@Injectable()
export class ClusterService {
  private readonly clusters: TenantScopedRepository<Cluster>;
  private readonly revisions: TenantScopedRepository<ClusterRevision>;
  private readonly nodes: TenantScopedRepository<Node>;
  private readonly commands: TenantScopedRepository<Command>;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(CloudService) private readonly clouds: CloudService,
  ) {
    this.clusters = new TenantScopedRepository(dataSource.manager, Cluster);
    this.revisions = new TenantScopedRepository(dataSource.manager, ClusterRevision);
    this.nodes = new TenantScopedRepository(dataSource.manager, Node);
    this.commands = new TenantScopedRepository(dataSource.manager, Command);
  }

  async create(principal: Principal, input: { cloudId: string; name: string }): Promise<Cluster> {
    checkName('name', input.name);
    await this.clouds.get(principal, input.cloudId, 'cloudId');
    try {
      return await tenantTransaction(this.dataSource, principal.tenantId, async (trx) => {
        const cluster = await this.clusters.withManager(trx).insert(principal.tenantId, { cloudId: input.cloudId, name: input.name });
        await recordAudit(trx, principal.tenantId, auditActorOf(principal), { action: 'cluster.created', targetType: 'cluster', targetId: cluster.id, detail: { name: cluster.name, cloudId: cluster.cloudId } });
        return cluster;
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new ClusterException(`a cluster named ${input.name} already exists in this cloud`, ClusterExceptionCode.CLUSTER_NAME_TAKEN, { field: 'name' });
      throw e;
    }
  }

  async get(principal: Principal, id: string, field = 'id'): Promise<Cluster> {
    const cluster = await this.clusters.findById(principal.tenantId, id);
    if (!cluster) throw notFound('cluster', id, field);
    return cluster;
  }

  async listInCloud(principal: Principal, cloudId: string, page: PageRequest): Promise<Page<Cluster>> {
    await this.clouds.get(principal, cloudId, 'cloudId');
    return this.clusters.paginate(principal.tenantId, page, { where: { cloudId }, sortBy: 'createdAt', direction: 'ASC' });
  }

  /** The revision the cluster currently wants, or null before its first spec. */
  currentRevision(principal: Principal, cluster: Cluster): Promise<ClusterRevision | null> {
    if (cluster.currentRevision === 0) return Promise.resolve(null);
    return this.revisions.findOne(principal.tenantId, { clusterId: cluster.id, revision: cluster.currentRevision });
  }

  /** Newest first. */
  listRevisions(principal: Principal, clusterId: string, page: PageRequest): Promise<Page<ClusterRevision>> {
    return this.revisions.paginate(principal.tenantId, page, { where: { clusterId }, sortBy: 'revision', direction: 'DESC' });
  }

  listNodes(principal: Principal, clusterId: string, page: PageRequest): Promise<Page<Node>> {
    return this.nodes.paginate(principal.tenantId, page, { where: { clusterId }, sortBy: 'name', direction: 'ASC' });
  }

  async getNode(principal: Principal, id: string): Promise<Node> {
    const node = await this.nodes.findById(principal.tenantId, id);
    if (!node) throw notFound('node', id, 'id');
    return node;
  }

  /** Commands of one node or one cluster (exactly one of the two), newest first. */
  async listCommands(principal: Principal, scope: { nodeId?: string | null; clusterId?: string | null }, page: PageRequest): Promise<Page<Command>> {
    const { nodeId, clusterId } = scope;
    let where: { nodeId: string } | { clusterId: string };
    if (nodeId && !clusterId) where = { nodeId: (await this.getNode(principal, nodeId)).id };
    else if (clusterId && !nodeId) where = { clusterId: (await this.get(principal, clusterId, 'clusterId')).id };
    else throw new ClusterException('give exactly one of nodeId or clusterId', ClusterExceptionCode.INVALID_ARGUMENT, { field: 'nodeId' });
    return this.commands.paginate(principal.tenantId, page, { where, sortBy: 'issuedAt', direction: 'DESC' });
  }
}
