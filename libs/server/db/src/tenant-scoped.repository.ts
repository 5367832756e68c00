import { ErrorKind, defineException } from '@triad/server-core';
import type { EntityManager, EntityTarget, FindOptionsOrder, FindOptionsWhere, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { UUID_RE, assertTenantId, TenantScopeError } from './tenant-id';
import { ambientTenantManager } from './tenant-transaction';

/** A row owned by one tenant. */
export interface TenantOwned extends ObjectLiteral {
  id: string;
  tenantId: string;
}

export enum PaginationExceptionCode {
  INVALID_CURSOR = 'INVALID_CURSOR',
  INVALID_PAGE_SIZE = 'INVALID_PAGE_SIZE',
}
export const PaginationException = defineException<PaginationExceptionCode>('PaginationException', {
  [PaginationExceptionCode.INVALID_CURSOR]: ErrorKind.BAD_USER_INPUT,
  [PaginationExceptionCode.INVALID_PAGE_SIZE]: ErrorKind.BAD_USER_INPUT,
});

/** TypeORM drops `undefined` from WHERE; an undefined filter would widen the query silently. */
function assertNoUndefined(where: object): void {
  for (const [k, v] of Object.entries(where)) {
    if (v === undefined) throw new TenantScopeError(`where.${k} is undefined`);
  }
}

export interface PageRequest {
  first: number;
  /** Opaque cursor from a previous page's `endCursor`. */
  after?: string | null;
}

export interface Page<T> {
  items: T[];
  cursors: string[];
  hasNextPage: boolean;
  endCursor: string | null;
}

export const MAX_PAGE_SIZE = 100;

export function encodeCursor(id: string): string {
  return Buffer.from(`id:${id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  const id = raw.startsWith('id:') ? raw.slice(3) : '';
  if (!UUID_RE.test(id)) throw new PaginationException('invalid cursor', PaginationExceptionCode.INVALID_CURSOR, { field: 'after' });
  return id;
}

/**
 * The one door to tenant-owned tables. Every method takes the tenant id first and throws on a
 * missing one; services never touch a raw TypeORM repository for these entities.
 * `withManager(trx)` gives the same repository inside a transaction. Without one, calls made
 * inside `tenantTransaction` for the same tenant (e.g. a GraphQL resolver) run in that
 * transaction, under row-level security.
 */
export class TenantScopedRepository<T extends TenantOwned> {
  constructor(
    private readonly defaultManager: EntityManager,
    private readonly target: EntityTarget<T>,
    private readonly bound = false,
  ) {}

  withManager(manager: EntityManager): TenantScopedRepository<T> {
    return new TenantScopedRepository(manager, this.target, true);
  }

  private managerFor(tenantId: string): EntityManager {
    assertTenantId(tenantId);
    return this.bound ? this.defaultManager : (ambientTenantManager(tenantId) ?? this.defaultManager);
  }

  private scoped(tenantId: string, where: FindOptionsWhere<T> = {}): FindOptionsWhere<T> {
    assertTenantId(tenantId);
    assertNoUndefined(where);
    return { ...where, tenantId } as FindOptionsWhere<T>;
  }

  async findById(tenantId: string, id: string): Promise<T | null> {
    if (!UUID_RE.test(id)) {
      assertTenantId(tenantId);
      return null; // not a uuid: cannot exist, and must not reach Postgres as a cast error
    }
    return this.managerFor(tenantId).findOneBy(this.target, this.scoped(tenantId, { id } as FindOptionsWhere<T>));
  }

  async findOne(tenantId: string, where: FindOptionsWhere<T>): Promise<T | null> {
    return this.managerFor(tenantId).findOneBy(this.target, this.scoped(tenantId, where));
  }

  async find(tenantId: string, where: FindOptionsWhere<T> = {}, order?: FindOptionsOrder<T>, take?: number): Promise<T[]> {
    return this.managerFor(tenantId).find(this.target, { where: this.scoped(tenantId, where), order, take });
  }

  async count(tenantId: string, where: FindOptionsWhere<T> = {}): Promise<number> {
    return this.managerFor(tenantId).countBy(this.target, this.scoped(tenantId, where));
  }

  /** Inserts a row owned by `tenantId` and returns it as stored (defaults filled in). */
  async insert(tenantId: string, values: Omit<Partial<T>, 'tenantId'>): Promise<T> {
    assertTenantId(tenantId);
    const manager = this.managerFor(tenantId);
    const result = await manager
      .createQueryBuilder()
      .insert()
      .into(this.target)
      .values({ ...values, tenantId } as unknown as QueryDeepPartialEntity<T>)
      .returning('*')
      .execute();
    const raw = (result.raw as ObjectLiteral[])[0];
    return manager.create(this.target, this.fromRaw(raw));
  }

  /** Updates rows of `tenantId` matching `where`; returns how many changed. */
  async update(tenantId: string, where: FindOptionsWhere<T>, patch: QueryDeepPartialEntity<T>): Promise<number> {
    const result = await this.managerFor(tenantId).update(this.target, this.scoped(tenantId, where), patch);
    return result.affected ?? 0;
  }

  /** A query builder already restricted to `tenantId` (use `andWhere` to add conditions). */
  queryBuilder(tenantId: string, alias: string): SelectQueryBuilder<T> {
    assertTenantId(tenantId);
    return this.managerFor(tenantId).createQueryBuilder(this.target, alias).where(`${alias}.tenantId = :__tenantId`, { __tenantId: tenantId });
  }

  /**
   * Keyset pagination ordered by `(sortBy, id)`. The cursor is the last row's id; the comparison
   * reads the cursor row's sort value in SQL so timestamps keep their full precision.
   */
  async paginate(tenantId: string, page: PageRequest, opts: { where?: FindOptionsWhere<T>; sortBy: keyof T & string; direction: 'ASC' | 'DESC' }): Promise<Page<T>> {
    if (!Number.isInteger(page.first) || page.first < 1 || page.first > MAX_PAGE_SIZE) {
      throw new PaginationException(`first must be between 1 and ${MAX_PAGE_SIZE}`, PaginationExceptionCode.INVALID_PAGE_SIZE, { field: 'first' });
    }
    const alias = 'row';
    const qb = this.queryBuilder(tenantId, alias);
    if (opts.where) {
      assertNoUndefined(opts.where);
      qb.andWhere(opts.where as ObjectLiteral);
    }
    if (page.after) {
      const afterId = decodeCursor(page.after);
      const meta = this.defaultManager.connection.getMetadata(this.target);
      const sortCol = meta.findColumnWithPropertyName(opts.sortBy)?.databaseName;
      if (!sortCol) throw new TenantScopeError(`unknown sort property ${opts.sortBy}`);
      const cmp = opts.direction === 'ASC' ? '>' : '<';
      qb.andWhere(
        `(${alias}.${opts.sortBy}, ${alias}.id) ${cmp} (SELECT c."${sortCol}", c."id" FROM "${meta.tableName}" c WHERE c."id" = :__afterId AND c."tenant_id" = :__tenantId)`,
        { __afterId: afterId },
      );
    }
    const rows = await qb
      .orderBy(`${alias}.${opts.sortBy}`, opts.direction)
      .addOrderBy(`${alias}.id`, opts.direction)
      .limit(page.first + 1)
      .getMany();
    const items = rows.slice(0, page.first);
    const cursors = items.map((r) => encodeCursor(r.id));
    return { items, cursors, hasNextPage: rows.length > page.first, endCursor: cursors.at(-1) ?? null };
  }

  /** Maps a RETURNING row (column names) to entity properties, applying column transformers. */
  private fromRaw(raw: ObjectLiteral): T {
    const meta = this.defaultManager.connection.getMetadata(this.target);
    const out: ObjectLiteral = {};
    for (const col of meta.columns) {
      if (!(col.databaseName in raw)) continue;
      let v: unknown = raw[col.databaseName];
      const transformers = col.transformer ? [col.transformer].flat() : [];
      for (const t of transformers) v = t.from(v);
      out[col.propertyName] = v;
    }
    return out as T;
  }
}
