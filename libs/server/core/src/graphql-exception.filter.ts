import { ArgumentsHost, Catch, HttpException, Logger } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { GqlContextType, GqlExceptionFilter } from '@nestjs/graphql';
import { GraphQLError } from 'graphql';
import { ErrorKind, TriadException } from './errors';

/**
 * The one mapping from thrown exceptions to GraphQL errors. Every resolver error passes through
 * here (registered as APP_FILTER); unknown errors become INTERNAL without their message.
 */
@Catch()
export class GraphqlExceptionFilter extends BaseExceptionFilter implements GqlExceptionFilter {
  private readonly log = new Logger('GraphqlExceptionFilter');

  override catch(exception: unknown, host: ArgumentsHost): unknown {
    if (host.getType<GqlContextType>() !== 'graphql') return super.catch(exception, host);
    return toGraphqlError(exception, (e) => this.log.error(e instanceof Error ? (e.stack ?? e.message) : String(e)));
  }
}

export function toGraphqlError(exception: unknown, logInternal: (e: unknown) => void = () => undefined): GraphQLError {
  // Errors graphql-js raised itself (validation, coercion) already say what is wrong.
  if (exception instanceof GraphQLError) return exception;
  const { kind, message, extensions } = classify(exception);
  switch (kind) {
    case ErrorKind.NOT_FOUND:
    case ErrorKind.CONFLICT:
    case ErrorKind.FORBIDDEN:
    case ErrorKind.BAD_USER_INPUT:
    case ErrorKind.UNAUTHENTICATED:
      return new GraphQLError(message, { extensions: { ...extensions, code: kind } });
    case ErrorKind.INTERNAL:
      logInternal(exception);
      return new GraphQLError('Internal error', { extensions: { code: kind } });
    default:
      return assertNever(kind);
  }
}

function classify(exception: unknown): { kind: ErrorKind; message: string; extensions: Record<string, unknown> } {
  if (exception instanceof TriadException) {
    return { kind: exception.kind, message: exception.message, extensions: { reason: exception.code, ...exception.details } };
  }
  // Nest's own HTTP exceptions (e.g. from a pipe) carry a status we can translate.
  if (exception instanceof HttpException) {
    const byStatus: Record<number, ErrorKind> = { 400: ErrorKind.BAD_USER_INPUT, 401: ErrorKind.UNAUTHENTICATED, 403: ErrorKind.FORBIDDEN, 404: ErrorKind.NOT_FOUND, 409: ErrorKind.CONFLICT };
    const kind = byStatus[exception.getStatus()];
    if (kind) return { kind, message: exception.message, extensions: {} };
  }
  return { kind: ErrorKind.INTERNAL, message: 'Internal error', extensions: {} };
}

function assertNever(x: never): never {
  throw new Error(`unhandled error kind ${String(x)}`);
}
