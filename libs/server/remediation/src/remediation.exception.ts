import { ErrorKind, defineException } from '@triad/server-core';

export enum RemediationExceptionCode {
  RUN_NOT_FOUND = 'RUN_NOT_FOUND',
  CLUSTER_NOT_FOUND = 'CLUSTER_NOT_FOUND',
  NOT_AWAITING_APPROVAL = 'NOT_AWAITING_APPROVAL',
  INVALID_ARGUMENT = 'INVALID_ARGUMENT',
}

export const RemediationException = defineException<RemediationExceptionCode>('RemediationException', {
  [RemediationExceptionCode.RUN_NOT_FOUND]: ErrorKind.NOT_FOUND,
  [RemediationExceptionCode.CLUSTER_NOT_FOUND]: ErrorKind.NOT_FOUND,
  [RemediationExceptionCode.NOT_AWAITING_APPROVAL]: ErrorKind.CONFLICT,
  [RemediationExceptionCode.INVALID_ARGUMENT]: ErrorKind.BAD_USER_INPUT,
});
export type RemediationException = InstanceType<typeof RemediationException>;
