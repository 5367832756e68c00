export * from './enums';
export * from './columns';
export * from './tenant-owned.entity';
export * from './tenant.entity';
export * from './api-token.entity';
export * from './cloud.entity';
export * from './cluster.entity';
export * from './cluster-revision.entity';
export * from './node.entity';
export * from './enrollment-token.entity';
export * from './command.entity';
export * from './outbox.entity';
export * from './audit-event.entity';

import { ApiToken } from './api-token.entity';
import { AuditEvent } from './audit-event.entity';
import { Cloud } from './cloud.entity';
import { Cluster } from './cluster.entity';
import { ClusterRevision } from './cluster-revision.entity';
import { Command } from './command.entity';
import { EnrollmentToken } from './enrollment-token.entity';
import { Node } from './node.entity';
import { Outbox } from './outbox.entity';
import { Tenant } from './tenant.entity';

export const ENTITIES = [Tenant, ApiToken, Cloud, Cluster, ClusterRevision, Node, EnrollmentToken, Command, Outbox, AuditEvent];
