import { randomBytes } from 'node:crypto';
import { ClusterFixture } from '@triad/commands';
import { AuditEvent, Cluster, ClusterHealth, Finding, Node, NodeStatus, createDataSource } from '@triad/db';
import { NodePresenceStore } from '@triad/fleet';
import { createLogger } from '@triad/logging';
import type { ComponentHealth } from '@triad/protocol';
import { createTestDatabase, labClusterSpec, labLoopbackAddresses, type TestDatabase } from '@triad/testing';
import { Redis } from 'ioredis';
import { IsNull, type DataSource } from 'typeorm';
import { HealthEventPublisher, HealthEventSubscriber, type ClusterHealthEvent } from './health-events';
import { HealthMonitor } from './health.monitor';
import { HealthService } from './health.service';

jest.setTimeout(60_000);

const NAMES = ['controller-1', 'controller-2', 'controller-3'];

/** A haproxy probe result as the agent sends it; `down` servers of the keystone backend DOWN. */
function haproxy(down: string[] = []): ComponentHealth {
  const detail = {
    frontends: [{ name: 'keystone', status: 'OPEN' }],
    backends: [{ name: 'keystone', status: 'UP', servers: NAMES.map((n) => ({ name: n, status: down.includes(n) ? 'DOWN' : 'UP', checkStatus: down.includes(n) ? 'L4TOUT' : 'L7OK' })) }],
  };
  return { component: 'haproxy', state: down.length ? 'COMPONENT_DEGRADED' : 'COMPONENT_OK', summary: '', detailJson: JSON.stringify(detail) };
}

/** crm_mon as `self` sees the cluster: everyone online, haproxy-clone everywhere, a failed monitor of haproxy on controller-2. */
function pacemakerWithFailure(self: string): ComponentHealth {
  const detail = {
    node: self,
    dc: 'controller-1',
    heldVips: self === 'controller-1' ? ['vip-internal'] : [],
    quorate: true,
    maintenanceMode: false,
    stopAllResources: false,
    stonithEnabled: false,
    nodes: NAMES.map((name, i) => ({ name, id: String(i + 1), online: true, standby: false, maintenance: false, unclean: false, pending: false, shutdown: false, isDc: i === 0, resourcesRunning: 1 })),
    resources: [
      { id: 'vip-internal', agent: 'ocf:heartbeat:IPaddr2', role: 'Started', active: true, managed: true, failed: false, blocked: false, orphaned: false, nodes: ['controller-1'] },
      ...NAMES.map((n) => ({ id: 'haproxy', parent: 'haproxy-clone', agent: 'ocf:heartbeat:anything', role: 'Started', active: true, managed: true, failed: false, blocked: false, orphaned: false, nodes: [n] })),
    ],
    failedActions: [
      { resource: 'haproxy', operation: 'haproxy_monitor_10000', task: 'monitor', node: 'controller-2', exitCode: 7, exitStatus: 'not running', exitReason: '', intervalMs: 10_000, lastRcChange: 'now', failCount: 1 },
    ],
  };
  return { component: 'pacemaker', state: 'COMPONENT_DEGRADED', summary: 'failed actions', detailJson: JSON.stringify(detail) };
}

describe(HealthMonitor.name, () => {
  let db: TestDatabase;
  let ds: DataSource;
  let redis: Redis;
  let subscriberRedis: Redis;
  let presence: NodePresenceStore;
  let monitor: HealthMonitor;
  let service: HealthService;
  let subscriber: HealthEventSubscriber;
  let a: ClusterFixture;
  let b: ClusterFixture;
  const nodesOf: Record<string, Node[]> = {};
  const prefix = `test-health-${randomBytes(4).toString('hex')}:`;
  const logger = createLogger('test', { level: 'silent' });
  let seq = 1;

  /** Every node of the fixture sends a heartbeat (Redis, as the agent stream does), `health` per node. */
  async function heartbeats(f: ClusterFixture, health: (name: string) => ComponentHealth[]): Promise<void> {
    for (const n of nodesOf[f.clusterId] ?? []) {
      await presence.touch({ tenantId: f.tenantId, nodeId: n.id }, Date.now(), { seq: seq++, appliedRevision: 1, health: JSON.stringify(health(n.name)) });
    }
  }

  async function setStatus(f: ClusterFixture, name: string, status: NodeStatus): Promise<void> {
    await ds.getRepository(Node).update({ tenantId: f.tenantId, clusterId: f.clusterId, name }, { status, statusChangedAt: new Date() });
  }

  const clusterRow = (f: ClusterFixture) => ds.getRepository(Cluster).findOneByOrFail({ id: f.clusterId });
  const audits = (f: ClusterFixture, action: string) => ds.getRepository(AuditEvent).findBy({ tenantId: f.tenantId, action });

  beforeAll(async () => {
    db = await createTestDatabase('health');
    ds = await createDataSource(db.url).initialize();
    redis = new Redis('redis://127.0.0.1:6379');
    subscriberRedis = new Redis('redis://127.0.0.1:6379');
    presence = new NodePresenceStore(redis, prefix);
    monitor = new HealthMonitor(redis, ds, presence, new HealthEventPublisher(redis, prefix), { redisPrefix: prefix, intervalMs: 200, pacemakerGraceMs: 60_000, refreshMs: 30_000 }, logger);
    service = new HealthService(ds);
    subscriber = new HealthEventSubscriber(subscriberRedis, prefix);
    const spec = () => labClusterSpec({ addresses: labLoopbackAddresses(3) });
    for (const f of [(a = await ClusterFixture.create(ds, spec)), (b = await ClusterFixture.create(ds, spec))]) {
      await f.newRevision();
      nodesOf[f.clusterId] = [];
      for (const name of NAMES) (nodesOf[f.clusterId] ?? []).push(await f.node(name, { appliedRevision: 1 }));
    }
  });

  afterAll(async () => {
    await monitor?.stop();
    const keys = await redis?.keys(`${prefix}*`);
    if (keys?.length) await redis.del(...keys);
    await subscriber?.close();
    redis?.disconnect();
    await ds?.destroy();
    await db?.drop();
  });

  it('a cluster whose nodes report nothing wrong becomes HEALTHY, written once with its time and audited', async () => {
    expect((await clusterRow(a)).health).toBe(ClusterHealth.UNKNOWN);
    await heartbeats(a, () => [haproxy()]);
    await heartbeats(b, () => [haproxy()]);
    await monitor.tick();
    const row = await clusterRow(a);
    expect(row.health).toBe(ClusterHealth.HEALTHY);
    expect(row.healthChangedAt).toBeInstanceOf(Date);
    expect(await service.findings(a.tenantId, a.clusterId)).toEqual([]);
    expect((await audits(a, 'cluster.health.changed')).map((e) => e.detail)).toEqual([{ from: 'UNKNOWN', to: 'HEALTHY', openFindings: [] }]);

    // Unchanged: nothing written again.
    const outcome = await monitor.evaluate(a.tenantId, a.clusterId);
    expect(outcome).toMatchObject({ healthChanged: false, opened: [], resolved: [], reassigned: [] });
    expect((await clusterRow(a)).healthChangedAt).toEqual(row.healthChangedAt);
    expect(await audits(a, 'cluster.health.changed')).toHaveLength(1);
  });

  it('cut a node: NODE_UNREACHABLE (its stale heartbeat ignored) and the backend its peers see down, DEGRADED, published to its tenant only', async () => {
    const mine = await subscriber.subscribe(a.tenantId, a.clusterId);
    const theirs = await subscriber.subscribe(b.tenantId, b.clusterId);
    const received: ClusterHealthEvent[] = [];
    const theirsReceived: ClusterHealthEvent[] = [];
    void (async () => {
      for await (const e of theirs) theirsReceived.push(e);
    })();

    await setStatus(a, 'controller-1', NodeStatus.UNREACHABLE);
    // controller-1's last (stale) heartbeat says its own haproxy is broken: not held against it.
    await heartbeats(a, (name) => [name === 'controller-1' ? haproxy(NAMES) : haproxy(['controller-1'])]);
    await monitor.tick();
    const first = await mine.next();
    if (!first.done) received.push(first.value);
    await mine.return?.();
    await theirs.return?.();

    expect((await clusterRow(a)).health).toBe(ClusterHealth.DEGRADED);
    const open = await service.findings(a.tenantId, a.clusterId);
    expect(open.map((f) => f.key).sort()).toEqual(['HAPROXY_BACKEND_DOWN:controller-2:keystone', 'HAPROXY_BACKEND_DOWN:controller-3:keystone', 'NODE_UNREACHABLE:controller-1:']);
    const node = open.find((f) => f.code === 'NODE_UNREACHABLE');
    expect(node).toMatchObject({ severity: 'WARNING', owner: 'NONE', nodeName: 'controller-1', nodeId: nodesOf[a.clusterId]?.[0]?.id, resolvedAt: null });
    expect(node?.message).toContain('Triad cannot hear from it');
    expect(await audits(a, 'finding.opened')).toHaveLength(3);

    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ clusterId: a.clusterId, health: 'DEGRADED' });
    expect(received[0]?.findings.map((f) => f.key).sort()).toEqual(open.map((f) => f.key).sort());
    expect(theirsReceived).toEqual([]);

    // The other tenant: untouched, and it cannot read this tenant's findings.
    expect((await clusterRow(b)).health).toBe(ClusterHealth.HEALTHY);
    expect(await service.findings(b.tenantId, b.clusterId)).toEqual([]);
    expect(await service.findings(b.tenantId, a.clusterId)).toEqual([]);
    await expect(service.assertCluster(b.tenantId, a.clusterId)).rejects.toMatchObject({ code: 'CLUSTER_NOT_FOUND', details: { field: 'clusterId' } });
  });

  it('an unchanged finding keeps its first_seen_at and is not rewritten every round', async () => {
    const before = await ds.getRepository(Finding).findOneByOrFail({ clusterId: a.clusterId, key: 'NODE_UNREACHABLE:controller-1:' });
    await monitor.tick();
    const after = await ds.getRepository(Finding).findOneByOrFail({ clusterId: a.clusterId, key: 'NODE_UNREACHABLE:controller-1:' });
    expect(after.firstSeenAt).toEqual(before.firstSeenAt);
    expect(after.lastSeenAt).toEqual(before.lastSeenAt);
  });

  it('heal: the findings resolve, HEALTHY again, each step audited; resolved findings stay readable', async () => {
    await setStatus(a, 'controller-1', NodeStatus.ONLINE);
    await heartbeats(a, () => [haproxy()]);
    await monitor.tick();
    expect((await clusterRow(a)).health).toBe(ClusterHealth.HEALTHY);
    expect(await service.findings(a.tenantId, a.clusterId)).toEqual([]);
    const all = await service.findings(a.tenantId, a.clusterId, true);
    expect(all).toHaveLength(3);
    expect(all.every((f) => f.resolvedAt instanceof Date)).toBe(true);
    expect(await audits(a, 'finding.resolved')).toHaveLength(3);
    expect((await audits(a, 'cluster.health.changed')).map((e) => (e.detail as { to: string }).to).sort()).toEqual(['DEGRADED', 'HEALTHY', 'HEALTHY']);

    // The same problem again later is a new finding (the unique key only binds open ones).
    await setStatus(a, 'controller-1', NodeStatus.UNREACHABLE);
    await monitor.tick();
    expect((await ds.getRepository(Finding).findBy({ clusterId: a.clusterId, key: 'NODE_UNREACHABLE:controller-1:' })).length).toBe(2);
    await setStatus(a, 'controller-1', NodeStatus.ONLINE);
    await monitor.tick();
  });

  it('a SUSPECT node\'s findings stay open as they were (no resolve and re-open while its heartbeat is late)', async () => {
    await heartbeats(a, (name) => [name === 'controller-2' ? haproxy(['controller-3']) : haproxy()]);
    await monitor.tick();
    const opened = await ds.getRepository(Finding).findOneByOrFail({ clusterId: a.clusterId, key: 'HAPROXY_BACKEND_DOWN:controller-2:keystone', resolvedAt: IsNull() });
    await setStatus(a, 'controller-2', NodeStatus.SUSPECT);
    await monitor.tick();
    const open = await service.findings(a.tenantId, a.clusterId);
    expect(open.map((f) => f.key).sort()).toEqual(['HAPROXY_BACKEND_DOWN:controller-2:keystone', 'NODE_SUSPECT:controller-2:']);
    expect(open.find((f) => f.id === opened.id)?.firstSeenAt).toEqual(opened.firstSeenAt);
    await setStatus(a, 'controller-2', NodeStatus.ONLINE);
    await heartbeats(a, () => [haproxy()]);
    await monitor.tick();
    expect(await service.findings(a.tenantId, a.clusterId)).toEqual([]);
    expect((await ds.getRepository(Finding).findOneByOrFail({ id: opened.id })).resolvedAt).toBeInstanceOf(Date);
  });

  it('a problem Pacemaker can repair is its own during the grace, then Triad\'s (owner rewritten and published)', async () => {
    const short = new HealthMonitor(redis, ds, presence, new HealthEventPublisher(redis, prefix), { redisPrefix: prefix, intervalMs: 200, pacemakerGraceMs: 500, refreshMs: 30_000 }, logger);
    await heartbeats(b, (name) => [haproxy(), pacemakerWithFailure(name)]);
    const first = await short.evaluate(b.tenantId, b.clusterId);
    expect(first?.opened).toEqual(['RESOURCE_FAILED:controller-2:haproxy']);
    expect(first?.open[0]).toMatchObject({ owner: 'PACEMAKER', severity: 'WARNING', detail: { resource: 'haproxy', failCount: 1, node: 'controller-2' } });
    expect(first?.open[0]?.action).toMatch(/^waiting for Pacemaker to recover haproxy \(1 s left\)$/);
    await new Promise((r) => setTimeout(r, 600));
    const later = await short.evaluate(b.tenantId, b.clusterId);
    expect(later?.reassigned).toEqual(['RESOURCE_FAILED:controller-2:haproxy']);
    const row = await ds.getRepository(Finding).findOneByOrFail({ clusterId: b.clusterId, key: 'RESOURCE_FAILED:controller-2:haproxy' });
    expect(row.owner).toBe('TRIAD');
    expect(row.firstSeenAt).toEqual(first?.open[0]?.firstSeenAt);
    await heartbeats(b, () => [haproxy()]);
    expect((await short.evaluate(b.tenantId, b.clusterId))?.resolved).toEqual(['RESOURCE_FAILED:controller-2:haproxy']);
  });

  it('one replica evaluates at a time (Redis lock); the other takes over when it stops', async () => {
    const other = new HealthMonitor(redis, ds, presence, new HealthEventPublisher(redis, prefix), { redisPrefix: prefix, intervalMs: 200, pacemakerGraceMs: 60_000, refreshMs: 30_000 }, logger);
    await monitor.tick();
    await other.tick();
    expect([monitor.isLeader, other.isLeader]).toEqual([true, false]);
    await monitor.stop();
    await other.tick();
    expect(other.isLeader).toBe(true);
    await other.stop();
  });
});
