import * as grpc from '@grpc/grpc-js';

/** Why an enrollment was refused; the names are the proto `EnrollFailure` values. */
export type EnrollFailureReason = 'TOKEN_UNKNOWN' | 'TOKEN_EXPIRED' | 'TOKEN_REVOKED' | 'TOKEN_EXHAUSTED' | 'NODE_NAME_TAKEN' | 'INVALID_REQUEST' | 'CANNOT_JOIN';

/** Trailer that carries the reason to the agent, next to the gRPC status. */
export const ENROLL_REASON_TRAILER = 'triad-reason';

const STATUS: Record<EnrollFailureReason, grpc.status> = {
  TOKEN_UNKNOWN: grpc.status.PERMISSION_DENIED,
  TOKEN_EXPIRED: grpc.status.PERMISSION_DENIED,
  TOKEN_REVOKED: grpc.status.PERMISSION_DENIED,
  TOKEN_EXHAUSTED: grpc.status.PERMISSION_DENIED,
  NODE_NAME_TAKEN: grpc.status.PERMISSION_DENIED,
  INVALID_REQUEST: grpc.status.INVALID_ARGUMENT,
  CANNOT_JOIN: grpc.status.FAILED_PRECONDITION,
};

export class EnrollmentRefusedException extends Error {
  constructor(
    readonly reason: EnrollFailureReason,
    message: string,
  ) {
    super(message);
    this.name = 'EnrollmentRefusedException';
  }

  /** The gRPC error the agent receives: status, message and the `triad-reason` trailer. */
  toGrpcError(): Partial<grpc.StatusObject> {
    const metadata = new grpc.Metadata();
    metadata.set(ENROLL_REASON_TRAILER, this.reason);
    return { code: STATUS[this.reason], details: `${this.reason}: ${this.message}`, metadata };
  }
}
