export * from './addresses';
export * from './cluster-spec.schema';
export * from './resolve';
export * from './service-catalogue';
export * from './spec-problem';
export { validateClusterSpec, type SpecValidation } from './validate-cluster-spec';
export { parseSpecText } from './spec-file';
export { clusterSpecJsonSchemaText } from './json-schema';
export { specWithNewNode, type NewNodePlacement } from './scale-out';
