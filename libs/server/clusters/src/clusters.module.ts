import { Module } from '@nestjs/common';
import { CloudResolver } from './cloud.resolver';
import { CloudService } from './cloud.service';
import { ClusterPlanService } from './cluster-plan.service';
import { ClusterSpecService } from './cluster-spec.service';
import { ClusterResolver } from './cluster.resolver';
import { ClusterService } from './cluster.service';
import { EnrollmentTokenResolver } from './enrollment-token.resolver';
import { EnrollmentTokenService } from './enrollment-token.service';
import { NodeResolver } from './node.resolver';

/** Clouds, clusters and their desired-state history, nodes and commands (read), enrollment tokens. */
@Module({
  providers: [CloudService, ClusterService, ClusterSpecService, ClusterPlanService, EnrollmentTokenService, CloudResolver, ClusterResolver, NodeResolver, EnrollmentTokenResolver],
  exports: [CloudService, ClusterService, ClusterSpecService, ClusterPlanService, EnrollmentTokenService],
})
export class ClustersModule {}

/** Resolvers this module registers (for printing the schema without booting the app). */
export const CLUSTER_RESOLVERS = [CloudResolver, ClusterResolver, NodeResolver, EnrollmentTokenResolver];
