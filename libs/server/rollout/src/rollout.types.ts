import { Field, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { RolloutStatus, RolloutStepStatus } from '@triad/db';
import { ConnectionType } from '@triad/server-core';

registerEnumType(RolloutStatus, { name: 'RolloutStatus' });
registerEnumType(RolloutStepStatus, { name: 'RolloutStepStatus' });

// Resolvers return the entities; these classes declare which of their fields the API shows.

@ObjectType('RolloutStep', { description: "One node's part of a rollout." })
export class RolloutStepType {
  @Field(() => ID) id!: string;
  @Field(() => ID) nodeId!: string;
  @Field() nodeName!: string;
  @Field(() => Int, { description: 'Position in the rollout (nodes go by name).' }) order!: number;
  @Field(() => RolloutStepStatus) status!: RolloutStepStatus;
  @Field(() => Int, { nullable: true, description: 'The revision the node had when its step started; a rollback returns it there.' }) previousRevision!: number | null;
  @Field(() => [String], { nullable: true, description: 'Health problems the node already had when its step started; the health gate does not hold them against it.' })
  healthBaseline!: string[] | null;
  @Field(() => ID, { nullable: true }) commandId!: string | null;
  @Field(() => ID, { nullable: true }) rollbackCommandId!: string | null;
  @Field(() => String, { nullable: true }) reason!: string | null;
  @Field(() => Date, { nullable: true }) startedAt!: Date | null;
  @Field(() => Date, { nullable: true }) finishedAt!: Date | null;
}

@ObjectType('Rollout', { description: 'A revision going out node by node.' })
export class RolloutType {
  @Field(() => ID) id!: string;
  @Field(() => ID) clusterId!: string;
  @Field(() => Int) fromRevision!: number;
  @Field(() => Int) toRevision!: number;
  @Field(() => RolloutStatus) status!: RolloutStatus;
  @Field(() => Int) maxUnavailable!: number;
  @Field(() => String, { nullable: true }) reason!: string | null;
  @Field(() => Date, { nullable: true }) abortRequestedAt!: Date | null;
  @Field() createdAt!: Date;
  @Field(() => Date, { nullable: true }) startedAt!: Date | null;
  @Field(() => Date, { nullable: true }) finishedAt!: Date | null;
}

export const RolloutConnection = ConnectionType(RolloutType, 'Rollout');

@ObjectType('RolloutStepProgress')
export class RolloutStepProgressType {
  @Field(() => ID) id!: string;
  @Field(() => ID) nodeId!: string;
  @Field() nodeName!: string;
  @Field(() => Int) order!: number;
  @Field(() => RolloutStepStatus) status!: RolloutStepStatus;
  @Field(() => String, { nullable: true }) reason!: string | null;
}

@ObjectType('RolloutProgress', { description: 'A change of a rollout (step absent) or of one of its steps.' })
export class RolloutProgressType {
  @Field(() => ID) clusterId!: string;
  @Field(() => ID) rolloutId!: string;
  @Field(() => Int) toRevision!: number;
  @Field(() => RolloutStatus) rolloutStatus!: RolloutStatus;
  @Field(() => RolloutStepProgressType, { nullable: true }) step!: RolloutStepProgressType | null;
  @Field(() => String, { nullable: true }) reason!: string | null;
  @Field() at!: string;
}
