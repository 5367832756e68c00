import { createTestDatabase, type TestDatabase } from '@triad/testing';
import type { DataSource } from 'typeorm';
import { createDataSource } from './data-source';
import { Cloud, Cluster, Node, Tenant } from './entities';
import { TenantScopeError } from './tenant-id';
import { TenantScopedRepository } from './tenant-scoped.repository';
import { ambientTenantManager, tenantTransaction } from './tenant-transaction';

describe(TenantScopedRepository.name, () => {
  let db: TestDatabase;
  let ds: DataSource;
  let clouds: TenantScopedRepository<Cloud>;
  let tenantA: Tenant;
  let tenantB: Tenant;

  beforeAll(async () => {
    db = await createTestDatabase('tenant_repo');
    ds = await createDataSource(db.url).initialize();
    clouds = new TenantScopedRepository(ds.manager, Cloud);
    tenantA = await ds.getRepository(Tenant).save({ name: 'A', slug: 'a' });
    tenantB = await ds.getRepository(Tenant).save({ name: 'B', slug: 'b' });
  }, 60_000);

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it("does not find another tenant's row by id", async () => {
    const cloudOfB = await clouds.insert(tenantB.id, { name: 'b-cloud' });
    expect(await clouds.findById(tenantA.id, cloudOfB.id)).toBeNull();
    expect((await clouds.findById(tenantB.id, cloudOfB.id))?.name).toBe('b-cloud');
    expect(await clouds.update(tenantA.id, { id: cloudOfB.id }, { name: 'stolen' })).toBe(0);
  });

  it.each([[''], [undefined], [null], ['not-a-uuid']])('throws on tenant id %p instead of reading every tenant', async (bad) => {
    await expect(clouds.find(bad as unknown as string)).rejects.toThrow(TenantScopeError);
    await expect(clouds.insert(bad as unknown as string, { name: 'x' })).rejects.toThrow(TenantScopeError);
    expect(() => clouds.queryBuilder(bad as unknown as string, 'c')).toThrow(TenantScopeError);
  });

  it('throws when a filter value is undefined rather than dropping the filter', async () => {
    await expect(clouds.findOne(tenantA.id, { id: undefined })).rejects.toThrow(TenantScopeError);
  });

  it('pages through rows in order with cursors, without other tenants rows', async () => {
    for (const n of ['p1', 'p2', 'p3']) await clouds.insert(tenantA.id, { name: n });
    const names: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const page = await clouds.paginate(tenantA.id, { first: 2, after }, { sortBy: 'createdAt', direction: 'ASC' });
      names.push(...page.items.map((c) => c.name));
      after = page.hasNextPage ? page.endCursor : null;
      pages++;
    } while (after);
    expect(names).toEqual(['p1', 'p2', 'p3']);
    expect(pages).toBe(2);
  });

  it('reads bigint fencing generations back as numbers', async () => {
    const cloud = await clouds.insert(tenantA.id, { name: 'gen' });
    const cluster = await new TenantScopedRepository(ds.manager, Cluster).insert(tenantA.id, { cloudId: cloud.id, name: 'c1' });
    const nodes = new TenantScopedRepository(ds.manager, Node);
    const node = await nodes.insert(tenantA.id, { clusterId: cluster.id, name: 'ctl-1', commandGeneration: 41 });
    expect(node.commandGeneration).toBe(41);
    expect((await nodes.findById(tenantA.id, node.id))?.commandGeneration).toBe(41);
  });

  describe('row-level security (tenantTransaction)', () => {
    it("hides another tenant's rows even from a query without a tenant filter", async () => {
      await clouds.insert(tenantB.id, { name: 'rls-b' });
      const names = await tenantTransaction(ds, tenantA.id, async (trx) => (await trx.query('SELECT name FROM clouds')) as { name: string }[]);
      expect(names.length).toBeGreaterThan(0);
      expect(names.map((r) => r.name)).not.toContain('rls-b');
    });

    it("refuses to write a row for another tenant", async () => {
      await expect(
        tenantTransaction(ds, tenantA.id, (trx) => trx.query('INSERT INTO clouds (tenant_id, name) VALUES ($1, $2)', [tenantB.id, 'smuggled'])),
      ).rejects.toThrow(/row-level security/);
      expect(await clouds.count(tenantB.id, { name: 'smuggled' })).toBe(0);
    });

    it('covers every table that has a tenant_id column', async () => {
      const unprotected = (await ds.query(`
        SELECT c.relname FROM pg_class c
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
        WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace
          AND (NOT c.relrowsecurity OR NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid))
      `)) as { relname: string }[];
      expect(unprotected.map((r) => r.relname)).toEqual([]);
    });

    it('runs repository calls made inside it in the same transaction, as triad_app', async () => {
      await tenantTransaction(ds, tenantA.id, async (trx) => {
        expect(ambientTenantManager(tenantA.id)).toBe(trx);
        expect(ambientTenantManager(tenantB.id)).toBeUndefined();
        const [{ current_user }] = (await trx.query('SELECT current_user')) as { current_user: string }[];
        expect(current_user).toBe('triad_app');
        const cloud = await clouds.insert(tenantA.id, { name: 'inside' });
        // The same transaction: the row is visible through the repository before commit.
        expect((await clouds.findById(tenantA.id, cloud.id))?.name).toBe('inside');
        await tenantTransaction(ds, tenantA.id, async (joined) => expect(joined).toBe(trx));
        await expect(tenantTransaction(ds, tenantB.id, async () => 1)).rejects.toThrow(TenantScopeError);
      });
    });

    it('refuses writes in a read-only tenant transaction', async () => {
      await expect(tenantTransaction(ds, tenantA.id, () => clouds.insert(tenantA.id, { name: 'ro' }), { readOnly: true })).rejects.toThrow(/read-only/);
    });

    it('throws on an empty tenant id before touching the database', async () => {
      await expect(tenantTransaction(ds, '', async () => 1)).rejects.toThrow(TenantScopeError);
    });
  });
});
