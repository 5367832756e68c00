import { ErrorKind, defineException } from '@triad/server-core';

export enum AuthExceptionCode {
  MISSING_TOKEN = 'MISSING_TOKEN',
  INVALID_TOKEN = 'INVALID_TOKEN',
  INSUFFICIENT_ROLE = 'INSUFFICIENT_ROLE',
  ROLE_ABOVE_OWN = 'ROLE_ABOVE_OWN',
  API_TOKEN_NOT_FOUND = 'API_TOKEN_NOT_FOUND',
  TENANT_SLUG_TAKEN = 'TENANT_SLUG_TAKEN',
  TENANT_NOT_FOUND = 'TENANT_NOT_FOUND',
  INVALID_ARGUMENT = 'INVALID_ARGUMENT',
}

export const AuthException = defineException<AuthExceptionCode>('AuthException', {
  [AuthExceptionCode.MISSING_TOKEN]: ErrorKind.UNAUTHENTICATED,
  [AuthExceptionCode.INVALID_TOKEN]: ErrorKind.UNAUTHENTICATED,
  [AuthExceptionCode.INSUFFICIENT_ROLE]: ErrorKind.FORBIDDEN,
  [AuthExceptionCode.ROLE_ABOVE_OWN]: ErrorKind.FORBIDDEN,
  [AuthExceptionCode.API_TOKEN_NOT_FOUND]: ErrorKind.NOT_FOUND,
  [AuthExceptionCode.TENANT_SLUG_TAKEN]: ErrorKind.CONFLICT,
  [AuthExceptionCode.TENANT_NOT_FOUND]: ErrorKind.NOT_FOUND,
  [AuthExceptionCode.INVALID_ARGUMENT]: ErrorKind.BAD_USER_INPUT,
});
export type AuthException = InstanceType<typeof AuthException>;
