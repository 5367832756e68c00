import { QueryFailedError } from 'typeorm';

/** Whether `e` is Postgres's unique_violation (23505), optionally on one constraint/index name. */
export function isUniqueViolation(e: unknown, constraint?: string): boolean {
  if (!(e instanceof QueryFailedError)) return false;
  const driverError = e.driverError as { code?: string; constraint?: string };
  return driverError.code === '23505' && (constraint === undefined || driverError.constraint === constraint);
}
