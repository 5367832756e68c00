import { Field, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { RemediationPolicy, RemediationRunStatus, RemediationStepStatus } from '@triad/db';
import { ConnectionType, GraphQLJSON } from '@triad/server-core';

registerEnumType(RemediationPolicy, { name: 'RemediationPolicy', description: 'AUTOMATIC: runs start on their own; APPROVAL: each run waits for approveRemediation; OFF: no runs.' });
registerEnumType(RemediationRunStatus, { name: 'RemediationRunStatus' });
registerEnumType(RemediationStepStatus, { name: 'RemediationStepStatus' });

// Resolvers return the entities; these classes declare which of their fields the API shows.

@ObjectType('ClusterMaintenance', { description: 'While enabled: no remediation runs and no findings-driven alerts for the cluster.' })
export class ClusterMaintenanceType {
  @Field() enabled!: boolean;
  @Field(() => String, { nullable: true }) reason!: string | null;
  @Field(() => String, { nullable: true, description: '`api_token:<id>` of whoever turned it on.' }) setBy!: string | null;
  @Field(() => Date, { nullable: true }) since!: Date | null;
}

@ObjectType('RemediationApproval')
export class RemediationApprovalType {
  @Field({ description: 'RUN (the run itself) or BOOTSTRAP_PARTIAL (a Galera bootstrap without every member reported).' }) scope!: string;
  @Field({ description: 'APPROVED or REJECTED.' }) decision!: string;
  @Field() actorType!: string;
  @Field(() => String, { nullable: true }) actorId!: string | null;
  @Field() at!: string;
  @Field(() => String, { nullable: true }) reason!: string | null;
}

@ObjectType('RemediationStep', { description: 'One step of a run: a node action, a wait, or the Galera election.' })
export class RemediationStepType {
  @Field(() => ID) id!: string;
  @Field(() => Int) seq!: number;
  @Field(() => String, { nullable: true }) nodeName!: string | null;
  @Field() action!: string;
  @Field(() => GraphQLJSON) args!: unknown;
  @Field(() => RemediationStepStatus) status!: RemediationStepStatus;
  @Field(() => ID, { nullable: true, description: 'The signed command that carried the action.' }) commandId!: string | null;
  @Field(() => GraphQLJSON, { nullable: true }) result!: unknown;
  @Field(() => String, { nullable: true }) message!: string | null;
  @Field(() => Date, { nullable: true }) startedAt!: Date | null;
  @Field(() => Date, { nullable: true }) finishedAt!: Date | null;
}

@ObjectType('RemediationRun', { description: 'A playbook run against one cluster.' })
export class RemediationRunType {
  @Field(() => ID) id!: string;
  @Field(() => ID) clusterId!: string;
  @Field() playbook!: string;
  @Field(() => [String], { description: 'Keys of the findings this run repairs.' }) findingKeys!: string[];
  @Field(() => String, { nullable: true }) nodeName!: string | null;
  @Field(() => RemediationRunStatus) status!: RemediationRunStatus;
  @Field(() => String, { nullable: true, description: 'Why it was planned, or why it ended as it did.' }) reason!: string | null;
  @Field(() => String, { nullable: true, description: 'While AWAITING_APPROVAL: RUN or BOOTSTRAP_PARTIAL.' }) awaiting!: string | null;
  @Field(() => [RemediationApprovalType]) approvals!: RemediationApprovalType[];
  @Field() createdAt!: Date;
  @Field(() => Date, { nullable: true }) startedAt!: Date | null;
  @Field(() => Date, { nullable: true }) finishedAt!: Date | null;
}

export const RemediationRunConnection = ConnectionType(RemediationRunType, 'RemediationRun');

@ObjectType('RemediationFreeze', { description: 'The mass-failure freeze of the tenant starting (FROZEN) or ending (THAWED).' })
export class RemediationFreezeType {
  @Field(() => ID) id!: string;
  @Field({ description: 'FROZEN or THAWED.' }) event!: string;
  @Field({ description: 'TENANT, or GLOBAL when every tenant looked bad.' }) scope!: string;
  @Field() reason!: string;
  @Field() at!: Date;
}
