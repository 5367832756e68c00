import { ErrorKind, defineException } from '@triad/server-core';

export enum ClusterExceptionCode {
  CLOUD_NOT_FOUND = 'CLOUD_NOT_FOUND',
  CLUSTER_NOT_FOUND = 'CLUSTER_NOT_FOUND',
  NODE_NOT_FOUND = 'NODE_NOT_FOUND',
  ENROLLMENT_TOKEN_NOT_FOUND = 'ENROLLMENT_TOKEN_NOT_FOUND',
  CLOUD_NAME_TAKEN = 'CLOUD_NAME_TAKEN',
  CLUSTER_NAME_TAKEN = 'CLUSTER_NAME_TAKEN',
  STALE_REVISION = 'STALE_REVISION',
  INVALID_SPEC = 'INVALID_SPEC',
  INVALID_ARGUMENT = 'INVALID_ARGUMENT',
}

export const ClusterException = defineException<ClusterExceptionCode>('ClusterException', {
  [ClusterExceptionCode.CLOUD_NOT_FOUND]: ErrorKind.NOT_FOUND,
  [ClusterExceptionCode.CLUSTER_NOT_FOUND]: ErrorKind.NOT_FOUND,
  [ClusterExceptionCode.NODE_NOT_FOUND]: ErrorKind.NOT_FOUND,
  [ClusterExceptionCode.ENROLLMENT_TOKEN_NOT_FOUND]: ErrorKind.NOT_FOUND,
  [ClusterExceptionCode.CLOUD_NAME_TAKEN]: ErrorKind.CONFLICT,
  [ClusterExceptionCode.CLUSTER_NAME_TAKEN]: ErrorKind.CONFLICT,
  [ClusterExceptionCode.STALE_REVISION]: ErrorKind.CONFLICT,
  [ClusterExceptionCode.INVALID_SPEC]: ErrorKind.BAD_USER_INPUT,
  [ClusterExceptionCode.INVALID_ARGUMENT]: ErrorKind.BAD_USER_INPUT,
});
export type ClusterException = InstanceType<typeof ClusterException>;

export function notFound(what: 'cloud' | 'cluster' | 'node' | 'enrollment token', id: string, field: string): ClusterException {
  const code = {
    cloud: ClusterExceptionCode.CLOUD_NOT_FOUND,
    cluster: ClusterExceptionCode.CLUSTER_NOT_FOUND,
    node: ClusterExceptionCode.NODE_NOT_FOUND,
    'enrollment token': ClusterExceptionCode.ENROLLMENT_TOKEN_NOT_FOUND,
  }[what];
  return new ClusterException(`${what} ${id} not found`, code, { field });
}
