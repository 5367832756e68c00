import { AuditActorType, type ApiTokenRole, type AuditActor } from '@triad/db';

/** The authenticated caller of a GraphQL request: one API token of one tenant. */
export interface Principal {
  tenantId: string;
  tokenId: string;
  role: ApiTokenRole;
}

export function auditActorOf(principal: Principal): AuditActor {
  return { type: AuditActorType.API_TOKEN, id: principal.tokenId };
}
