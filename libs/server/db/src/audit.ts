import type { EntityManager } from 'typeorm';
import { assertTenantId } from './tenant-id';
import { AuditEvent, AuditActorType } from './entities';

/** Who acted: an API token, an agent (node id), or the system itself (no id). */
export interface AuditActor {
  type: AuditActorType;
  id: string | null;
}

export const SYSTEM_ACTOR: AuditActor = { type: AuditActorType.SYSTEM, id: null };

/** Records an audit event; pass the transaction's manager so it commits with the change. */
export async function recordAudit(
  manager: EntityManager,
  tenantId: string,
  actor: AuditActor,
  event: { action: string; targetType: string; targetId: string | null; detail?: Record<string, unknown> },
): Promise<void> {
  assertTenantId(tenantId);
  await manager.save(AuditEvent, {
    tenantId,
    actorType: actor.type,
    actorId: actor.id,
    action: event.action,
    targetType: event.targetType,
    targetId: event.targetId,
    detail: event.detail ?? {},
  });
}
