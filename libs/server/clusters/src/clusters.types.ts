import { ArgsType, Field, Float, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { ClusterHealth, CommandStatus, NodeStatus } from '@triad/db';
import { ArtifactChange } from './cluster-plan.service';
import { ConnectionType, GraphQLJSON, PageArgs } from '@triad/server-core';

registerEnumType(ClusterHealth, { name: 'ClusterHealth' });
registerEnumType(NodeStatus, { name: 'NodeStatus' });
registerEnumType(CommandStatus, { name: 'CommandStatus' });
registerEnumType(ArtifactChange, { name: 'ArtifactChange' });

// Resolvers return the entities themselves; these classes declare which of their fields the API shows.

@ObjectType('Cloud')
export class CloudType {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field() description!: string;
  @Field() createdAt!: Date;
}

@ObjectType('Cluster')
export class ClusterType {
  @Field(() => ID) id!: string;
  @Field(() => ID) cloudId!: string;
  @Field() name!: string;
  @Field(() => Int, { description: 'Number of the desired revision; 0 before the first spec.' }) currentRevision!: number;
  @Field(() => ClusterHealth, { description: 'Rollup of the open findings (docs/health.md); UNKNOWN before a revision or any heartbeat.' }) health!: ClusterHealth;
  @Field(() => Date, { nullable: true, description: 'When health last changed.' }) healthChangedAt!: Date | null;
  @Field() createdAt!: Date;
  @Field() updatedAt!: Date;
}

@ObjectType('ClusterRevision')
export class ClusterRevisionType {
  @Field(() => ID) id!: string;
  @Field(() => ID) clusterId!: string;
  @Field(() => Int) revision!: number;
  @Field(() => GraphQLJSON, { description: 'The validated spec with defaults filled in.' }) spec!: unknown;
  @Field() specHash!: string;
  @Field(() => GraphQLJSON, { description: '{ [nodeName]: { [artifactName]: sha256 } } rendered with the default host profile.' }) artifactDigests!: unknown;
  @Field() createdAt!: Date;
}

@ObjectType('Node')
export class NodeType {
  @Field(() => ID) id!: string;
  @Field(() => ID) clusterId!: string;
  @Field() name!: string;
  @Field(() => NodeStatus) status!: NodeStatus;
  @Field() statusChangedAt!: Date;
  @Field(() => Date, { nullable: true }) lastHeartbeatAt!: Date | null;
  @Field(() => String, { nullable: true }) agentVersion!: string | null;
  @Field(() => Int) appliedRevision!: number;
  @Field(() => GraphQLJSON) appliedArtifacts!: unknown;
  @Field(() => GraphQLJSON) facts!: unknown;
  @Field(() => GraphQLJSON, { nullable: true, description: 'Latest component health snapshot.' }) health!: unknown;
  @Field(() => Date, { nullable: true }) enrolledAt!: Date | null;
}

@ObjectType('Command')
export class CommandType {
  @Field(() => ID) id!: string;
  @Field(() => ID) clusterId!: string;
  @Field(() => ID) nodeId!: string;
  @Field() verb!: string;
  @Field(() => Int, { nullable: true }) revision!: number | null;
  @Field(() => Float, { description: 'Fencing generation, monotonic per node.' }) generation!: number;
  @Field(() => CommandStatus) status!: CommandStatus;
  @Field(() => String, { nullable: true }) reason!: string | null;
  @Field(() => String, { nullable: true }) message!: string | null;
  @Field(() => GraphQLJSON, { nullable: true, description: 'run_action: what the action found or did, as the agent reported it (docs/commands.md).' }) result!: Record<string, unknown> | null;
  @Field() issuedAt!: Date;
  @Field() expiresAt!: Date;
  @Field(() => Date, { nullable: true }) deliveredAt!: Date | null;
  @Field(() => Date, { nullable: true }) startedAt!: Date | null;
  @Field(() => Date, { nullable: true }) finishedAt!: Date | null;
}

@ObjectType('EnrollmentToken')
export class EnrollmentTokenType {
  @Field(() => ID) id!: string;
  @Field(() => ID) cloudId!: string;
  @Field(() => ID, { nullable: true }) clusterId!: string | null;
  @Field() name!: string;
  @Field({ description: 'First characters of the secret, to recognise it.' }) prefix!: string;
  @Field() expiresAt!: Date;
  @Field(() => Int) maxUses!: number;
  @Field(() => Int) uses!: number;
  @Field({ description: 'A node whose name is not in the spec may enroll and is appended to it (docs/scale-out.md).' }) allowNewNodes!: boolean;
  @Field(() => Date, { nullable: true }) revokedAt!: Date | null;
  @Field() createdAt!: Date;
}

export const CloudConnection = ConnectionType(CloudType, 'Cloud');
export const ClusterConnection = ConnectionType(ClusterType, 'Cluster');
export const ClusterRevisionConnection = ConnectionType(ClusterRevisionType, 'ClusterRevision');
export const NodeConnection = ConnectionType(NodeType, 'Node');
export const CommandConnection = ConnectionType(CommandType, 'Command');
export const EnrollmentTokenConnection = ConnectionType(EnrollmentTokenType, 'EnrollmentToken');

@ObjectType()
export class CreatedEnrollmentToken {
  @Field(() => EnrollmentTokenType) token!: EnrollmentTokenType;
  @Field({ description: 'The enrollment secret for the agent. Shown only in this response.' }) secret!: string;
  @Field({ description: "sha256 of the control plane's command-signing key: give it to the agent as TRIAD_COMMAND_KEY_SHA256 so enrollment refuses any other key." })
  commandKeySha256!: string;
}

@ObjectType()
export class SpecWarning {
  @Field({ description: 'Path in the spec, e.g. services[2].vip.' }) path!: string;
  @Field() code!: string;
  @Field() message!: string;
}

@ObjectType()
export class UpdateClusterSpecPayload {
  @Field(() => ClusterType) cluster!: ClusterType;
  @Field(() => ClusterRevisionType) revision!: ClusterRevisionType;
  @Field(() => [SpecWarning]) warnings!: SpecWarning[];
}

@ArgsType()
export class CreateCloudArgs {
  @Field() name!: string;
  @Field(() => String, { nullable: true }) description?: string | null;
}

@ArgsType()
export class CreateClusterArgs {
  @Field(() => ID) cloudId!: string;
  @Field() name!: string;
}

@ArgsType()
export class CreateEnrollmentTokenArgs {
  @Field(() => ID) clusterId!: string;
  @Field() name!: string;
  @Field(() => Int, { defaultValue: 3600, description: 'Lifetime, 60 s to 30 days.' }) ttlSeconds!: number;
  @Field(() => Int, { defaultValue: 1, description: 'How many nodes may enroll with it, 1 to 1000.' }) maxUses!: number;
  @Field({
    defaultValue: false,
    description: "Scale-out: a node whose name is not in the cluster's current spec is appended to it (a new revision, rolled out to the other nodes first). Off by default: only nodes the spec already lists may enroll into it (docs/scale-out.md).",
  })
  allowNewNodes!: boolean;
}

@ArgsType()
export class UpdateClusterSpecArgs {
  @Field(() => ID) clusterId!: string;
  @Field(() => GraphQLJSON) spec!: unknown;
  @Field(() => Int, { description: 'The currentRevision you based this spec on; a stale one is refused with CONFLICT.' }) expectedRevision!: number;
  @Field(() => Int, { defaultValue: 1, description: "How many nodes this revision's rollout updates at once, 1 to 100 (docs/rollouts.md)." }) maxUnavailable!: number;
}

@ArgsType()
export class CommandsArgs extends PageArgs {
  @Field(() => ID, { nullable: true }) nodeId?: string | null;
  @Field(() => ID, { nullable: true }) clusterId?: string | null;
}

@ObjectType('PlannedArtifact')
export class PlannedArtifactType {
  @Field() nodeName!: string;
  @Field(() => ID, { nullable: true, description: 'null for a node of the spec that has not enrolled.' }) nodeId!: string | null;
  @Field() artifact!: string;
  @Field(() => ArtifactChange) change!: ArtifactChange;
  @Field(() => String, { nullable: true, description: 'Digest the node reports as applied.' }) appliedSha256!: string | null;
  @Field(() => String, { nullable: true }) desiredSha256!: string | null;
  @Field(() => String, { nullable: true, description: 'Unified diff applied → desired; null when unchanged or the applied bytes are unknown.' }) diff!: string | null;
  @Field(() => String, { nullable: true, description: 'The desired file as rendered with the default host profile; null when it goes away.' }) content!: string | null;
}

@ObjectType('PlanProblem')
export class PlanProblemType {
  @Field({ description: 'Path in the spec, e.g. services[2].vip.' }) path!: string;
  @Field() code!: string;
  @Field() message!: string;
  @Field({ description: 'error or warning; a warning that must be acknowledged counts as an error until it is.' }) severity!: string;
}

@ObjectType('VipPlacement')
export class VipPlacementType {
  @Field() resource!: string;
  @Field(() => String, { nullable: true, description: 'The node the VIP runs on; null when it has no home.' }) node!: string | null;
}

@ObjectType('Placement')
export class PlacementType {
  @Field(() => [VipPlacementType]) vips!: VipPlacementType[];
  @Field(() => [String]) haproxyNodes!: string[];
  @Field(() => [String]) galeraPromotedNodes!: string[];
}

@ObjectType('NodeLoss')
export class NodeLossType {
  @Field() lostNode!: string;
  @Field(() => PlacementType) placement!: PlacementType;
}

@ObjectType('WhatIfProblem')
export class WhatIfProblemType {
  @Field() code!: string;
  @Field(() => String, { nullable: true, description: 'The node whose loss was simulated; null for the healthy cluster.' }) lostNode!: string | null;
  @Field() resource!: string;
  @Field() message!: string;
}

@ObjectType('WhatIf', { description: 'crm_simulate on the rendered CIB: placement with every node up, then after losing each node.' })
export class WhatIfType {
  @Field(() => PlacementType) placement!: PlacementType;
  @Field(() => [NodeLossType]) losses!: NodeLossType[];
  @Field(() => [WhatIfProblemType]) problems!: WhatIfProblemType[];
}

@ObjectType('ClusterPlan')
export class ClusterPlanType {
  @Field(() => ID) clusterId!: string;
  @Field(() => Int) currentRevision!: number;
  @Field({ description: 'True when neither the spec nor the what-if has an error.' }) valid!: boolean;
  @Field(() => [PlanProblemType], { description: 'Every validation and what-if problem.' }) problems!: PlanProblemType[];
  @Field(() => [SpecWarning]) warnings!: SpecWarning[];
  @Field(() => [PlannedArtifactType], { description: 'Empty when the spec is not valid.' }) artifacts!: PlannedArtifactType[];
  @Field(() => WhatIfType, { nullable: true, description: 'null when the spec is not valid or the simulation could not run (a WHAT_IF_UNAVAILABLE warning says why).' }) whatIf!: WhatIfType | null;
}
