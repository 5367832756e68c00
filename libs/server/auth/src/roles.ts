import { ApiTokenRole } from '@triad/db';

/** owner > admin > operator > viewer. */
const RANK: Record<ApiTokenRole, number> = {
  [ApiTokenRole.OWNER]: 4,
  [ApiTokenRole.ADMIN]: 3,
  [ApiTokenRole.OPERATOR]: 2,
  [ApiTokenRole.VIEWER]: 1,
};

export function roleAtLeast(role: ApiTokenRole, minimum: ApiTokenRole): boolean {
  return RANK[role] >= RANK[minimum];
}
