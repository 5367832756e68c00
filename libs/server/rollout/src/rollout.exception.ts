import { ErrorKind, defineException } from '@triad/server-core';

export enum RolloutExceptionCode {
  ROLLOUT_NOT_FOUND = 'ROLLOUT_NOT_FOUND',
  CLUSTER_NOT_FOUND = 'CLUSTER_NOT_FOUND',
  NOT_RETRYABLE = 'NOT_RETRYABLE',
  NOT_ACTIVE = 'NOT_ACTIVE',
}

export const RolloutException = defineException<RolloutExceptionCode>('RolloutException', {
  [RolloutExceptionCode.ROLLOUT_NOT_FOUND]: ErrorKind.NOT_FOUND,
  [RolloutExceptionCode.CLUSTER_NOT_FOUND]: ErrorKind.NOT_FOUND,
  [RolloutExceptionCode.NOT_RETRYABLE]: ErrorKind.CONFLICT,
  [RolloutExceptionCode.NOT_ACTIVE]: ErrorKind.CONFLICT,
});
export type RolloutException = InstanceType<typeof RolloutException>;
