// Original file: proto/triad/agent/v1/agent.proto

export const EnrollFailure = {
  ENROLL_FAILURE_UNSPECIFIED: 'ENROLL_FAILURE_UNSPECIFIED',
  TOKEN_UNKNOWN: 'TOKEN_UNKNOWN',
  TOKEN_EXPIRED: 'TOKEN_EXPIRED',
  TOKEN_REVOKED: 'TOKEN_REVOKED',
  TOKEN_EXHAUSTED: 'TOKEN_EXHAUSTED',
  NODE_NAME_TAKEN: 'NODE_NAME_TAKEN',
  INVALID_REQUEST: 'INVALID_REQUEST',
  CANNOT_JOIN: 'CANNOT_JOIN',
} as const;

export type EnrollFailure =
  | 'ENROLL_FAILURE_UNSPECIFIED'
  | 0
  | 'TOKEN_UNKNOWN'
  | 1
  | 'TOKEN_EXPIRED'
  | 2
  | 'TOKEN_REVOKED'
  | 3
  | 'TOKEN_EXHAUSTED'
  | 4
  | 'NODE_NAME_TAKEN'
  | 5
  | 'INVALID_REQUEST'
  | 6
  | 'CANNOT_JOIN'
  | 7

export type EnrollFailure__Output = typeof EnrollFailure[keyof typeof EnrollFailure]
