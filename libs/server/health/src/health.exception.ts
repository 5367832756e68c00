import { ErrorKind, defineException } from '@triad/server-core';

export enum HealthExceptionCode {
  CLUSTER_NOT_FOUND = 'CLUSTER_NOT_FOUND',
}

export const HealthException = defineException<HealthExceptionCode>('HealthException', {
  [HealthExceptionCode.CLUSTER_NOT_FOUND]: ErrorKind.NOT_FOUND,
});
export type HealthException = InstanceType<typeof HealthException>;
