import { Field, ID, ObjectType, registerEnumType } from '@nestjs/graphql';
import { ClusterHealth } from '@triad/db';
import { GraphQLJSON } from '@triad/server-core';
import { FINDING_CODES, FINDING_COMPONENTS, FINDING_OWNERS, FINDING_SEVERITIES } from './finding';

const asEnum = <T extends string>(values: readonly T[]) => Object.fromEntries(values.map((v) => [v, v])) as Record<T, T>;
export const FindingCodeEnum = asEnum(FINDING_CODES);
export const FindingSeverityEnum = asEnum(FINDING_SEVERITIES);
export const FindingComponentEnum = asEnum(FINDING_COMPONENTS);
export const FindingOwnerEnum = asEnum(FINDING_OWNERS);
registerEnumType(FindingCodeEnum, { name: 'FindingCode', description: 'What is wrong (docs/health.md lists every code and its rule).' });
registerEnumType(FindingSeverityEnum, { name: 'FindingSeverity' });
registerEnumType(FindingComponentEnum, { name: 'FindingComponent' });
registerEnumType(FindingOwnerEnum, {
  name: 'FindingOwner',
  description: 'Who is expected to repair it: PACEMAKER (for its grace), TRIAD (remediation), OPERATOR (a person), NONE (Triad cannot hear from the node).',
});

// Resolvers return the entity (or an event's view of it); this class declares which fields the API shows.
@ObjectType('Finding', { description: 'Something wrong with a cluster, found from its nodes\' heartbeats.' })
export class FindingType {
  @Field(() => ID) id!: string;
  @Field(() => FindingCodeEnum) code!: string;
  @Field(() => FindingSeverityEnum) severity!: string;
  @Field(() => FindingComponentEnum) component!: string;
  @Field(() => String, { nullable: true, description: 'The node it is about; null for cluster-wide findings.' }) nodeName!: string | null;
  @Field(() => String, { nullable: true, description: 'Resource id, VIP, backend, artifact…' }) subject!: string | null;
  @Field({ description: 'What is wrong and where.' }) message!: string;
  @Field(() => FindingOwnerEnum) owner!: string;
  @Field({ description: 'What Triad will do about it.' }) action!: string;
  @Field(() => GraphQLJSON) detail!: unknown;
  @Field() firstSeenAt!: Date;
  @Field() lastSeenAt!: Date;
  @Field(() => Date, { nullable: true }) resolvedAt!: Date | null;
}

@ObjectType('ClusterHealthChange', { description: "A change of a cluster's health or of its open findings." })
export class ClusterHealthChangeType {
  @Field(() => ID) clusterId!: string;
  @Field(() => ClusterHealth) health!: ClusterHealth;
  @Field(() => Date, { nullable: true }) healthChangedAt!: Date | null;
  @Field(() => [FindingType], { description: 'Every open finding after the change.' }) findings!: FindingType[];
}
