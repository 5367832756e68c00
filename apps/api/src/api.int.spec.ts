import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { bootstrapTenant } from '@triad/auth';
import { AuditEvent, Cluster, ClusterHealth, ClusterRevision, Command, EnrollmentToken, Finding, Node, NodeStatus, Outbox, hashSecret } from '@triad/db';
import { createLogger } from '@triad/logging';
import { HealthEventPublisher, type ClusterHealthEvent } from '@triad/health';
import { SUBSCRIPTION_RECHECK_MS, loadServerConfig } from '@triad/server-core';
import { GraphQLClient, GraphQLSubscriber, REPO_ROOT, createTestDatabase, freePort, waitFor, type TestDatabase } from '@triad/testing';
import { Redis } from 'ioredis';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { DataSource } from 'typeorm';
import { parse } from 'yaml';
import { createApiApp } from './app';

const seedSpec = () => parse(readFileSync(join(REPO_ROOT, 'examples/seed-3-active-active.yaml'), 'utf8')) as Record<string, unknown>;

const CREATE_CLOUD = 'mutation($name: String!) { createCloud(name: $name) { id name } }';
const CREATE_CLUSTER = 'mutation($cloudId: ID!, $name: String!) { createCluster(cloudId: $cloudId, name: $name) { id currentRevision } }';
const UPDATE_SPEC = `mutation($clusterId: ID!, $spec: JSON!, $expectedRevision: Int!) {
  updateClusterSpec(clusterId: $clusterId, spec: $spec, expectedRevision: $expectedRevision) {
    cluster { id currentRevision } revision { revision specHash artifactDigests } warnings { path code }
  }
}`;
const CREATE_TOKEN = 'mutation($name: String!, $role: ApiTokenRole!) { createApiToken(name: $name, role: $role) { secret token { id role prefix } } }';

describe('api GraphQL', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let ds: DataSource;
  let dir: string;
  let url: string;
  let owner: GraphQLClient;
  let other: GraphQLClient;
  let redisPrefix: string;
  let ownerSecret: string;

  const count = (entity: typeof ClusterRevision | typeof Outbox | typeof AuditEvent | typeof Command, where: Record<string, unknown> = {}) => ds.getRepository(entity).countBy(where);

  async function newCluster(client: GraphQLClient, name: string): Promise<string> {
    const { createCloud } = await client.ok<{ createCloud: { id: string } }>(CREATE_CLOUD, { name: `${name}-cloud` });
    const { createCluster } = await client.ok<{ createCluster: { id: string } }>(CREATE_CLUSTER, { cloudId: createCloud.id, name });
    return createCluster.id;
  }

  async function tokenWithRole(role: string): Promise<GraphQLClient> {
    const { createApiToken } = await owner.ok<{ createApiToken: { secret: string } }>(CREATE_TOKEN, { name: `${role}-token`, role });
    return owner.withToken(createApiToken.secret);
  }

  beforeAll(async () => {
    db = await createTestDatabase('api');
    dir = mkdtempSync(join(tmpdir(), 'triad-api-'));
    const key = join(dir, 'command-signing.pem');
    writeFileSync(key, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
    redisPrefix = `triad-test-${randomBytes(4).toString('hex')}:`;
    const config = loadServerConfig({
      DATABASE_URL: db.url,
      COMMAND_SIGNING_KEY_FILE: key,
      GRPC_BIND: `127.0.0.1:${await freePort()}`,
      GRPC_INSECURE: 'true',
      REDIS_URL: process.env.REDIS_URL,
      REDIS_PREFIX: redisPrefix,
      NATS_URL: process.env.NATS_URL,
      LOG_LEVEL: 'silent',
    });
    app = await createApiApp(config, createLogger('api-test', { level: 'silent' }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `${await app.getUrl()}/graphql`;
    ds = app.get(DataSource);
    ownerSecret = (await bootstrapTenant(ds, { name: 'Acme', slug: 'acme' })).secret;
    owner = new GraphQLClient(url, ownerSecret);
    other = new GraphQLClient(url, (await bootstrapTenant(ds, { name: 'Globex', slug: 'globex' })).secret);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('authentication', () => {
    it('answers UNAUTHENTICATED without a token', async () => {
      const r = await new GraphQLClient(url).request('{ clouds { edges { node { id } } } }');
      expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(r.data ?? null).toBeNull();
    });

    it('answers UNAUTHENTICATED for an unknown token', async () => {
      const r = await owner.withToken(`triad_pat_${'A'.repeat(43)}`).request('{ clouds { edges { node { id } } } }');
      expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    });

    it('answers UNAUTHENTICATED once a token is revoked', async () => {
      const { createApiToken } = await owner.ok<{ createApiToken: { secret: string; token: { id: string } } }>(CREATE_TOKEN, { name: 'short-lived', role: 'OPERATOR' });
      const client = owner.withToken(createApiToken.secret);
      await client.ok('{ clouds { edges { node { id } } } }');
      await owner.ok('mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }', { id: createApiToken.token.id });
      const r = await client.request('{ clouds { edges { node { id } } } }');
      expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    });

    it('shows an API token secret once and stores only its hash', async () => {
      const { createApiToken } = await owner.ok<{ createApiToken: { secret: string; token: { id: string; prefix: string } } }>(CREATE_TOKEN, { name: 'ci', role: 'VIEWER' });
      expect(createApiToken.secret).toMatch(/^triad_pat_[0-9A-Za-z]{43}$/);
      expect(createApiToken.secret.startsWith(createApiToken.token.prefix)).toBe(true);
      const [row] = await ds.query('SELECT * FROM api_tokens WHERE id = $1', [createApiToken.token.id]);
      expect(row.token_hash).toBe(hashSecret(createApiToken.secret));
      expect(JSON.stringify(row)).not.toContain(createApiToken.secret);
    });
  });

  describe('subscriptions', () => {
    const HEALTH_CHANGED = 'subscription($c: ID!) { clusterHealthChanged(clusterId: $c) { clusterId health } }';
    const event = (clusterId: string, health: ClusterHealthEvent['health']): ClusterHealthEvent => ({ clusterId, health, healthChangedAt: null, findings: [], opened: [], resolved: [], at: new Date().toISOString() });

    it("end with UNAUTHENTICATED once their token is revoked, and deliver nothing after it; others' go on", async () => {
      const clusterId = await newCluster(owner, 'subscribed');
      const quietClusterId = await newCluster(owner, 'quiet');
      const { createApiToken } = await owner.ok<{ createApiToken: { secret: string; token: { id: string } } }>(CREATE_TOKEN, { name: 'dashboard', role: 'VIEWER' });
      const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
      const publisher = new HealthEventPublisher(redis, redisPrefix);
      const busy = await GraphQLSubscriber.open(url, createApiToken.secret, HEALTH_CHANGED, { c: clusterId });
      const idle = await GraphQLSubscriber.open(url, createApiToken.secret, HEALTH_CHANGED, { c: quietClusterId });
      const ownerSub = await GraphQLSubscriber.open(url, ownerSecret, HEALTH_CHANGED, { c: clusterId });
      const { tenantId } = await ds.getRepository(Cluster).findOneByOrFail({ id: clusterId });
      try {
        await publisher.publish(tenantId, [event(clusterId, 'DEGRADED')]);
        await waitFor('the event reaches both subscribers of the cluster', async () => busy.events.length === 1 && ownerSub.events.length === 1, 5_000, 50);

        await owner.ok('mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }', { id: createApiToken.token.id });
        await new Promise((r) => setTimeout(r, 1_100)); // older than the authorization a delivery may reuse
        await publisher.publish(tenantId, [event(clusterId, 'CRITICAL')]);
        // The subscription with an event to deliver re-checks first: an error instead of the event.
        await waitFor('the revoked subscription ends', async () => busy.errors.length === 1, 5_000, 50);
        expect(JSON.stringify(busy.errors[0])).toContain('UNAUTHENTICATED');
        expect(JSON.stringify(busy.errors[0])).toContain('revoked or has expired');
        expect(busy.events).toHaveLength(1);
        await waitFor('the owner gets the second event', async () => ownerSub.events.length === 2, 5_000, 50);
        // The one on a cluster without events ends at its periodic re-check (SUBSCRIPTION_RECHECK_MS).
        expect(idle.errors).toEqual([]);
        await waitFor('the idle revoked subscription ends', async () => idle.errors.length === 1, SUBSCRIPTION_RECHECK_MS + 5_000, 100);
        expect(JSON.stringify(idle.errors[0])).toContain('UNAUTHENTICATED');
        expect(idle.events).toEqual([]);
        expect(ownerSub.errors).toEqual([]);
      } finally {
        busy.close();
        idle.close();
        ownerSub.close();
        redis.disconnect();
      }
    }, 40_000);
  });

  describe('roles', () => {
    it('lets a viewer read but answers FORBIDDEN when it mutates', async () => {
      const viewer = await tokenWithRole('VIEWER');
      await viewer.ok('{ clouds { edges { node { id } } } }');
      const r = await viewer.request(CREATE_CLOUD, { name: 'viewer-cloud' });
      expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(await ds.query("SELECT 1 FROM clouds WHERE name = 'viewer-cloud'")).toHaveLength(0);
    });

    it('answers FORBIDDEN when an operator creates API tokens or an admin creates an owner token', async () => {
      const operator = await tokenWithRole('OPERATOR');
      expect((await operator.request(CREATE_TOKEN, { name: 'x', role: 'VIEWER' })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const admin = await tokenWithRole('ADMIN');
      expect((await admin.request(CREATE_TOKEN, { name: 'x', role: 'OWNER' })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    });
  });

  describe('clouds and clusters', () => {
    it('answers CONFLICT for a cloud name the tenant already uses, but another tenant may use it', async () => {
      await owner.ok(CREATE_CLOUD, { name: 'shared-name' });
      expect((await owner.request(CREATE_CLOUD, { name: 'shared-name' })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'name' });
      await other.ok(CREATE_CLOUD, { name: 'shared-name' });
    });

    it('answers BAD_USER_INPUT for a cluster name that could not be an id', async () => {
      const { createCloud } = await owner.ok<{ createCloud: { id: string } }>(CREATE_CLOUD, { name: 'names' });
      const r = await owner.request(CREATE_CLUSTER, { cloudId: createCloud.id, name: '../Prod Cluster' });
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
    });

    it("answers NOT_FOUND on cloudId when creating a cluster in another tenant's cloud", async () => {
      const { createCloud } = await other.ok<{ createCloud: { id: string } }>(CREATE_CLOUD, { name: 'globex-only' });
      const r = await owner.request(CREATE_CLUSTER, { cloudId: createCloud.id, name: 'sneaky' });
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'cloudId' });
    });
  });

  describe('updateClusterSpec', () => {
    it('stores the revision, moves the cluster, and writes outbox + audit in one go', async () => {
      const clusterId = await newCluster(owner, 'prod');
      const { updateClusterSpec } = await owner.ok<{
        updateClusterSpec: { cluster: { currentRevision: number }; revision: { revision: number; artifactDigests: Record<string, Record<string, string>> } };
      }>(UPDATE_SPEC, { clusterId, spec: seedSpec(), expectedRevision: 0 });
      expect(updateClusterSpec.cluster.currentRevision).toBe(1);
      expect(updateClusterSpec.revision.revision).toBe(1);
      expect(Object.keys(updateClusterSpec.revision.artifactDigests).sort()).toEqual(['controller-1', 'controller-2', 'controller-3']);
      expect(updateClusterSpec.revision.artifactDigests['controller-1']?.['haproxy.cfg']).toMatch(/^[0-9a-f]{64}$/);

      const outbox = await ds.getRepository(Outbox).findBy({ aggregateId: clusterId });
      expect(outbox.map((o) => [o.kind, o.payload])).toEqual([['cluster.revision.created', { clusterId, revision: 1, maxUnavailable: 1 }]]);
      expect(await count(AuditEvent, { action: 'cluster.spec.updated', targetId: clusterId })).toBe(1);

      const { cluster } = await owner.ok<{ cluster: { currentRevision: number; spec: { metadata: { name: string } }; revisions: { edges: { node: { revision: number } }[] } } }>(
        'query($id: ID!) { cluster(id: $id) { currentRevision spec revisions { edges { node { revision } } } } }',
        { id: clusterId },
      );
      expect(cluster.spec.metadata.name).toBe('seed');
      expect(cluster.revisions.edges.map((e) => e.node.revision)).toEqual([1]);
    });

    it('refuses a stale expectedRevision with CONFLICT naming the current revision, and writes nothing', async () => {
      const clusterId = await newCluster(owner, 'stale');
      await owner.ok(UPDATE_SPEC, { clusterId, spec: seedSpec(), expectedRevision: 0 });
      const before = [await count(ClusterRevision, { clusterId }), await count(Outbox, { aggregateId: clusterId })];
      const r = await owner.request(UPDATE_SPEC, { clusterId, spec: seedSpec(), expectedRevision: 0 });
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', currentRevision: 1, field: 'expectedRevision' });
      expect(r.errors?.[0]?.message).toContain('revision 1');
      expect([await count(ClusterRevision, { clusterId }), await count(Outbox, { aggregateId: clusterId })]).toEqual(before);
    });

    it('lets exactly one of two concurrent updates from the same revision win', async () => {
      const clusterId = await newCluster(owner, 'race');
      const results = await Promise.all([0, 1, 2].map(() => owner.request(UPDATE_SPEC, { clusterId, spec: seedSpec(), expectedRevision: 0 })));
      expect(results.filter((r) => !r.errors).length).toBe(1);
      expect(results.filter((r) => r.errors?.[0]?.extensions?.code === 'CONFLICT').length).toBe(2);
      expect(await count(ClusterRevision, { clusterId })).toBe(1);
      expect(await count(Outbox, { aggregateId: clusterId })).toBe(1);
    });

    it('answers BAD_USER_INPUT naming every bad field, and writes nothing', async () => {
      const clusterId = await newCluster(owner, 'invalid');
      const spec = seedSpec();
      (spec.topology as { nodes: unknown[] }).nodes = [];
      delete spec.rabbitmq;
      const r = await owner.request(UPDATE_SPEC, { clusterId, spec, expectedRevision: 0 });
      const ext = r.errors?.[0]?.extensions as { code: string; field: string; problems: { field: string; code: string }[] };
      expect(ext.code).toBe('BAD_USER_INPUT');
      expect(ext.problems.map((p) => p.field)).toEqual(expect.arrayContaining(['spec.topology.nodes', 'spec.rabbitmq']));
      expect(ext.field).toBe(ext.problems[0]?.field);
      expect(await count(ClusterRevision, { clusterId })).toBe(0);
      expect(await count(Outbox, { aggregateId: clusterId })).toBe(0);
    });

    it("answers NOT_FOUND for another tenant's cluster, to reads and writes alike", async () => {
      const clusterId = await newCluster(owner, 'private');
      const read = await other.request('query($id: ID!) { cluster(id: $id) { name } }', { id: clusterId });
      expect(read.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      const write = await other.request(UPDATE_SPEC, { clusterId, spec: seedSpec(), expectedRevision: 0 });
      expect(write.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(await count(ClusterRevision, { clusterId })).toBe(0);
    });
  });

  describe('planCluster', () => {
    const PLAN = `query($clusterId: ID!, $spec: JSON!) {
      planCluster(clusterId: $clusterId, spec: $spec) { currentRevision artifacts { nodeName nodeId artifact change diff } }
    }`;
    type Plan = { planCluster: { currentRevision: number; artifacts: { nodeName: string; nodeId: string | null; artifact: string; change: string; diff: string | null }[] } };

    it('shows per-file changes against what each node applied, with diffs, and writes nothing', async () => {
      const clusterId = await newCluster(owner, 'plan');
      const { updateClusterSpec } = await owner.ok<{ updateClusterSpec: { revision: { artifactDigests: Record<string, Record<string, string>> } } }>(UPDATE_SPEC, {
        clusterId,
        spec: seedSpec(),
        expectedRevision: 0,
      });
      const { tenantId } = await ds.getRepository(Cluster).findOneByOrFail({ id: clusterId });
      const node = await ds.getRepository(Node).save({
        tenantId,
        clusterId,
        name: 'controller-1',
        status: NodeStatus.ONLINE,
        appliedRevision: 1,
        appliedArtifacts: updateClusterSpec.revision.artifactDigests['controller-1'],
      });
      const spec = seedSpec();
      const [keystone] = spec.services as { name: string; vip: string }[];
      expect(keystone?.vip).toBe('10.20.0.10');
      Object.assign(keystone ?? {}, { vip: '10.20.0.30' });
      const viewer = await tokenWithRole('VIEWER');
      const before = await Promise.all([count(ClusterRevision), count(Outbox), count(Command), count(AuditEvent)]);

      const { planCluster } = await viewer.ok<Plan>(PLAN, { clusterId, spec });
      expect(planCluster.currentRevision).toBe(1);
      const onNode1 = planCluster.artifacts.filter((a) => a.nodeName === 'controller-1');
      const haproxy = onNode1.find((a) => a.artifact === 'haproxy.cfg');
      expect(haproxy).toMatchObject({ change: 'CHANGED', nodeId: node.id });
      expect(haproxy?.diff).toMatch(/^-.*10\.20\.0\.10/m);
      expect(haproxy?.diff).toMatch(/^\+.*10\.20\.0\.30/m);
      expect(onNode1.find((a) => a.artifact === 'corosync.conf')).toMatchObject({ change: 'UNCHANGED', diff: null });
      const onNode2 = planCluster.artifacts.filter((a) => a.nodeName === 'controller-2');
      expect(onNode2.length).toBeGreaterThan(0);
      expect(onNode2.every((a) => a.change === 'ADDED' && a.nodeId === null)).toBe(true);
      expect(await Promise.all([count(ClusterRevision), count(Outbox), count(Command), count(AuditEvent)])).toEqual(before);
    });

    it('reports every problem of an invalid spec in the plan, with nothing rendered', async () => {
      const clusterId = await newCluster(owner, 'plan-invalid');
      const r = await owner.ok<{ planCluster: { valid: boolean; problems: { path: string; severity: string }[]; artifacts: unknown[]; whatIf: unknown } }>(
        `query($clusterId: ID!, $spec: JSON!) { planCluster(clusterId: $clusterId, spec: $spec) { valid problems { path severity } artifacts { artifact } whatIf { problems { code } } } }`,
        { clusterId, spec: { apiVersion: 'triad.io/v1' } },
      );
      expect(r.planCluster.valid).toBe(false);
      expect(r.planCluster.problems.map((p) => p.path)).toEqual(expect.arrayContaining(['metadata', 'topology']));
      expect(r.planCluster.artifacts).toEqual([]);
      expect(r.planCluster.whatIf).toBeNull();
    });

    it('simulates the loss of each node with crm_simulate: every VIP and the Galera writer keep a home', async () => {
      const clusterId = await newCluster(owner, 'plan-what-if');
      type WhatIf = { placement: { vips: { resource: string; node: string | null }[] }; losses: { lostNode: string; placement: { vips: { node: string | null }[]; galeraPromotedNodes: string[] } }[]; problems: unknown[] };
      const r = await owner.ok<{ planCluster: { valid: boolean; whatIf: WhatIf; artifacts: { artifact: string; content: string | null }[] } }>(
        `query($clusterId: ID!, $spec: JSON!) { planCluster(clusterId: $clusterId, spec: $spec) {
          valid artifacts { artifact content }
          whatIf { placement { vips { resource node } } losses { lostNode placement { vips { node } galeraPromotedNodes } } problems { code } } } }`,
        { clusterId, spec: seedSpec() },
      );
      const { whatIf } = r.planCluster;
      expect(r.planCluster.valid).toBe(true);
      expect(whatIf.problems).toEqual([]);
      expect(whatIf.placement.vips.length).toBeGreaterThan(10);
      expect(whatIf.losses.map((l) => l.lostNode)).toEqual(['controller-1', 'controller-2', 'controller-3']);
      for (const loss of whatIf.losses) {
        expect(loss.placement.vips.every((v) => v.node !== null && v.node !== loss.lostNode)).toBe(true);
        expect(loss.placement.galeraPromotedNodes).not.toContain(loss.lostNode);
        expect(loss.placement.galeraPromotedNodes.length).toBeGreaterThan(0);
      }
      expect(r.planCluster.artifacts.find((a) => a.artifact === 'haproxy.cfg')?.content).toMatch(/^listen keystone/m);
    });

  });

  describe('enrollment tokens', () => {
    it('shows the secret once, stores its sha256, and can revoke it', async () => {
      const clusterId = await newCluster(owner, 'enroll');
      const { createEnrollmentToken } = await owner.ok<{ createEnrollmentToken: { secret: string; token: { id: string; maxUses: number; expiresAt: string } } }>(
        'mutation($clusterId: ID!) { createEnrollmentToken(clusterId: $clusterId, name: "rack-1", ttlSeconds: 600, maxUses: 3) { secret token { id maxUses expiresAt } } }',
        { clusterId },
      );
      expect(createEnrollmentToken.secret).toMatch(/^triad_enr_[0-9A-Za-z]{43}$/);
      expect(createEnrollmentToken.token.maxUses).toBe(3);
      expect(Date.parse(createEnrollmentToken.token.expiresAt) - Date.now()).toBeGreaterThan(590_000);
      const row = await ds.getRepository(EnrollmentToken).findOneByOrFail({ id: createEnrollmentToken.token.id });
      expect(row.tokenHash).toBe(hashSecret(createEnrollmentToken.secret));

      const { revokeEnrollmentToken } = await owner.ok<{ revokeEnrollmentToken: { revokedAt: string | null } }>('mutation($id: ID!) { revokeEnrollmentToken(id: $id) { revokedAt } }', {
        id: createEnrollmentToken.token.id,
      });
      expect(revokeEnrollmentToken.revokedAt).not.toBeNull();
    });

    it('refuses a TTL out of range with BAD_USER_INPUT on ttlSeconds', async () => {
      const clusterId = await newCluster(owner, 'enroll-ttl');
      const r = await owner.request('mutation($clusterId: ID!) { createEnrollmentToken(clusterId: $clusterId, name: "x", ttlSeconds: 5) { secret } }', { clusterId });
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'ttlSeconds' });
    });
  });

  describe('lists', () => {
    it('pages through clouds with first/after', async () => {
      const client = new GraphQLClient(url, (await bootstrapTenant(ds, { name: 'Paging', slug: 'paging' })).secret);
      for (const name of ['c1', 'c2', 'c3']) await client.ok(CREATE_CLOUD, { name });
      const page = (after: string | null) =>
        client.ok<{ clouds: { edges: { cursor: string; node: { name: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }>(
          'query($after: String) { clouds(first: 2, after: $after) { edges { cursor node { name } } pageInfo { hasNextPage endCursor } } }',
          { after },
        );
      const p1 = await page(null);
      expect(p1.clouds.edges.map((e) => e.node.name)).toEqual(['c1', 'c2']);
      expect(p1.clouds.pageInfo.hasNextPage).toBe(true);
      const p2 = await page(p1.clouds.pageInfo.endCursor);
      expect(p2.clouds.edges.map((e) => e.node.name)).toEqual(['c3']);
      expect(p2.clouds.pageInfo.hasNextPage).toBe(false);
    });

    it('answers BAD_USER_INPUT for a garbage cursor', async () => {
      const r = await owner.request('{ clouds(first: 2, after: "nonsense") { edges { cursor } } }');
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    });
  });

  it('shows a cluster\'s findings to a viewer (open by default, resolved on request), never to another tenant', async () => {
    const clusterId = await newCluster(owner, 'with-findings');
    const cluster = await ds.getRepository(Cluster).findOneByOrFail({ id: clusterId });
    const base = { tenantId: cluster.tenantId, clusterId, component: 'node', nodeName: 'controller-1', subject: null, severity: 'WARNING', owner: 'NONE', action: 'not remediated', detail: {} };
    await ds.getRepository(Finding).save([
      { ...base, key: 'NODE_UNREACHABLE:controller-1:', code: 'NODE_UNREACHABLE', message: 'controller-1 is UNREACHABLE', firstSeenAt: new Date(), lastSeenAt: new Date(), resolvedAt: null },
      { ...base, key: 'NODE_SUSPECT:controller-1:', code: 'NODE_SUSPECT', message: 'controller-1 missed heartbeats', firstSeenAt: new Date(Date.now() - 60_000), lastSeenAt: new Date(), resolvedAt: new Date() },
    ]);
    await ds.getRepository(Cluster).update({ id: clusterId }, { health: ClusterHealth.DEGRADED, healthChangedAt: new Date() });
    const viewer = await tokenWithRole('VIEWER');
    const q = 'query($id: ID!) { cluster(id: $id) { health healthChangedAt open: findings { code owner message } all: findings(includeResolved: true) { code resolvedAt } } }';
    const { cluster: view } = await viewer.ok<{ cluster: { health: string; healthChangedAt: string | null; open: unknown[]; all: { code: string; resolvedAt: string | null }[] } }>(q, { id: clusterId });
    expect(view.health).toBe('DEGRADED');
    expect(view.healthChangedAt).not.toBeNull();
    expect(view.open).toEqual([{ code: 'NODE_UNREACHABLE', owner: 'NONE', message: 'controller-1 is UNREACHABLE' }]);
    expect(view.all.map((f) => [f.code, f.resolvedAt !== null])).toEqual([['NODE_UNREACHABLE', false], ['NODE_SUSPECT', true]]);
    const r = await other.request(q, { id: clusterId });
    expect(r.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('refuses a query nested deeper than the limit', async () => {
    const deep = '{ clouds { edges { node { clusters { edges { node { revisions { edges { node { id } } } } } } } } } }';
    const r = await owner.request(deep);
    expect(r.errors?.[0]?.message).toMatch(/depth/i);
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.data ?? null).toBeNull();
  });

  it('answers BAD_USER_INPUT for a query the schema does not allow or a variable of the wrong type', async () => {
    expect((await owner.request('{ clouds { edges { node { nonsense } } } }')).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const r = await owner.request(UPDATE_SPEC, { clusterId: 'x', spec: {}, expectedRevision: 'one' });
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('serves the schema committed in apps/api/schema.graphql', () => {
    const served = `${printSchema(lexicographicSortSchema(app.get(GraphQLSchemaHost).schema))}\n`;
    expect(served).toBe(readFileSync(join(REPO_ROOT, 'apps/api/schema.graphql'), 'utf8'));
  });

  it('answers /healthz and exposes Prometheus metrics', async () => {
    const base = url.replace(/\/graphql$/, '');
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${base}/metrics`)).text()).toContain('triad_api_http_requests_total');
  });
});
