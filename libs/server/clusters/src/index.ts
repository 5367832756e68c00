export * from './clusters.exception';
export * from './clusters.types';
export * from './spec-hash';
export * from './cloud.service';
export * from './cluster.service';
export * from './cluster-spec.service';
export * from './enrollment-token.service';
export * from './clusters.module';
