import * as grpc from '@grpc/grpc-js';
import { commandKeyFingerprint, type AgentServiceClient, type EnrollResponse__Output, type Facts } from '@triad/protocol';
import type { Logger } from '@triad/logging';
import { fullJitterBackoffMs, sleep } from './backoff';
import { AgentFatalError, EXIT_ENROLLMENT_REFUSED } from './errors';
import { IdentityStore, generateAgentKeys, toAgentIdentity, type AgentIdentity, type Enrollment } from './identity';

/** Operator-facing explanation of each `triad-reason` the control plane may send. */
const REFUSAL_TEXT: Record<string, string> = {
  TOKEN_UNKNOWN: 'the token is not known (mistyped, or from another control plane)',
  TOKEN_EXPIRED: 'the token has expired',
  TOKEN_REVOKED: 'the token was revoked',
  TOKEN_EXHAUSTED: 'the token has already been used as many times as it allows',
  NODE_NAME_TAKEN: 'the node name is already taken by another enrolled node',
  INVALID_REQUEST: 'the control plane rejected the request as invalid',
  CANNOT_JOIN: 'the node is not in the cluster spec and cannot be added to it',
};

export class EnrollmentRefusedError extends AgentFatalError {
  constructor(
    readonly reason: string,
    detail: string,
  ) {
    super(`enrollment refused: ${REFUSAL_TEXT[reason] ?? `reason ${reason}`}${detail ? ` (${detail})` : ''}`, EXIT_ENROLLMENT_REFUSED);
    this.name = 'EnrollmentRefusedError';
  }
}

/** Transport failures worth retrying; anything else is the control plane saying no. */
const RETRYABLE = new Set([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.RESOURCE_EXHAUSTED, grpc.status.INTERNAL, grpc.status.UNKNOWN]);

function enrollOnce(client: AgentServiceClient, request: Parameters<AgentServiceClient['Enroll']>[0]): Promise<EnrollResponse__Output> {
  return new Promise((resolve, reject) => {
    client.Enroll(request, { deadline: Date.now() + 30_000 }, (err, res) => (err || !res ? reject(err ?? new Error('empty enroll response')) : resolve(res)));
  });
}

export interface EnrollOptions {
  client: AgentServiceClient;
  store: IdentityStore;
  token: string | undefined;
  nodeName: string;
  facts: () => Promise<Facts>;
  logger: Logger;
  signal: AbortSignal;
  /** Pinned fingerprint of the command-signing key (TRIAD_COMMAND_KEY_SHA256). */
  expectedCommandKeySha256?: string;
}

/**
 * Returns this node's identity: the saved one, or a new one from `Enroll` with the token. The token
 * is sent once and never logged or stored.
 */
export async function loadOrEnroll(opts: EnrollOptions): Promise<AgentIdentity> {
  const saved = await opts.store.load();
  if (saved?.enrollment) return toAgentIdentity(saved.keys, saved.enrollment);
  if (!opts.token) {
    throw new AgentFatalError(
      `this node is not enrolled (no ${opts.store.path}) and TRIAD_ENROLLMENT_TOKEN is not set: create an enrollment token and start the agent with it`,
      EXIT_ENROLLMENT_REFUSED,
    );
  }
  const keys = saved?.keys ?? generateAgentKeys();
  if (!saved) await opts.store.save(keys);

  for (let attempt = 0; ; attempt++) {
    let res: EnrollResponse__Output;
    try {
      res = await enrollOnce(opts.client, {
        token: opts.token,
        publicKeyPem: keys.publicKeyPem,
        facts: await opts.facts(),
        natsUserPublicKey: keys.natsPublicKey,
        nodeName: opts.nodeName,
      });
    } catch (e) {
      const err = e as grpc.ServiceError;
      if (typeof err.code !== 'number' || !RETRYABLE.has(err.code)) {
        const reason = err.metadata?.get('triad-reason')[0]?.toString() ?? 'UNSPECIFIED';
        throw new EnrollmentRefusedError(reason, err.details ?? err.message);
      }
      const delay = fullJitterBackoffMs(attempt);
      opts.logger.warn({ err: err.details ?? err.message, retryInMs: delay }, 'control plane unreachable for enrollment; retrying');
      await sleep(delay, opts.signal);
      if (opts.signal.aborted) throw new AgentFatalError('stopped before enrollment completed', 1);
      continue;
    }
    const enrollment = toEnrollment(res);
    checkCommandKey(enrollment.commandSigningPublicKeyPem, opts.expectedCommandKeySha256, opts.logger);
    await opts.store.save(keys, enrollment);
    opts.logger.info({ nodeId: enrollment.nodeId, tenantId: enrollment.tenantId, clusterId: enrollment.clusterId }, 'enrolled');
    return toAgentIdentity(keys, enrollment);
  }
}

/** Refuses a signing key other than the pinned one; without a pin, says that it trusted blindly. */
export function checkCommandKey(pem: string, expected: string | undefined, logger: Logger): void {
  const actual = commandKeyFingerprint(pem);
  if (!expected) {
    logger.warn({ commandKeySha256: actual }, 'trusting the command-signing key the control plane sent; set TRIAD_COMMAND_KEY_SHA256 to pin it');
    return;
  }
  if (actual !== expected) {
    throw new AgentFatalError(
      `enrollment refused: the control plane's command-signing key (sha256 ${actual}) is not the one TRIAD_COMMAND_KEY_SHA256 pins (${expected}); nothing was saved`,
      EXIT_ENROLLMENT_REFUSED,
    );
  }
}

function toEnrollment(res: EnrollResponse__Output): Enrollment {
  if (!res.nodeId || !res.tenantId || !res.commandSigningPublicKeyPem || !res.nats) {
    throw new AgentFatalError('the control plane answered Enroll without a node id, tenant, signing key or NATS access', 1);
  }
  return {
    nodeId: res.nodeId,
    tenantId: res.tenantId,
    clusterId: res.clusterId,
    nodeName: res.nodeName,
    commandSigningPublicKeyPem: res.commandSigningPublicKeyPem,
    nats: { ...res.nats },
    heartbeatIntervalMs: res.heartbeatIntervalMs,
    enrolledAt: new Date().toISOString(),
  };
}
