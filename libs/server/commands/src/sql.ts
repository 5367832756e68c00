import { UUID_RE } from '@triad/db';
import type { DataSource } from 'typeorm';

/** Runs a write statement outside any transaction and returns the number of rows it touched. */
export async function affectedRows(dataSource: DataSource, sql: string, params: unknown[]): Promise<number> {
  const runner = dataSource.createQueryRunner();
  try {
    const result = await runner.query(sql, params, true);
    return result.affected ?? 0;
  } finally {
    await runner.release();
  }
}


/** Ids from agents are checked before they reach a uuid column (a cast error is not "not found"). */
export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}
