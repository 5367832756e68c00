import { z } from 'zod';
import type { FreezeThresholds, RemediationLimits } from './remediation-plan';

const ms = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);
const count = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

/** Remediation settings (worker and api), parsed once at start like loadServerConfig. */
export const remediationConfigSchema = z.object({
  /** How often every cluster is evaluated (freeze, plan, queue). */
  REMEDIATION_SWEEP_INTERVAL_MS: ms(5_000),
  /** How often a wait step re-reads findings and nodes. */
  REMEDIATION_POLL_INTERVAL_MS: ms(1_000),
  /** A node action not finished by then fails its step. */
  REMEDIATION_ACTION_TIMEOUT_MS: ms(180_000),
  /** A wait step (node rejoined, Galera synced…) not satisfied by then fails its step. */
  REMEDIATION_WAIT_TIMEOUT_MS: ms(300_000),
  /** A Pacemaker cleanup whose resource has not recovered by then failed (its run stops; the next is capped and backed off). */
  REMEDIATION_CLEANUP_WAIT_TIMEOUT_MS: ms(60_000),
  /**
   * A cluster counts as built once it has been HEALTHY for this long at least once (before that it
   * is not remediated). 0: once HEALTHY at all — HEALTHY means every configured component reported
   * and no finding, so Pacemaker's agents have formed Galera and RabbitMQ.
   */
  REMEDIATION_SETTLED_MS: ms(0),
  REMEDIATION_MAX_ATTEMPTS: count(3),
  REMEDIATION_CLEANUP_MAX_PER_WINDOW: count(3),
  REMEDIATION_ATTEMPT_WINDOW_MS: ms(3_600_000),
  REMEDIATION_BACKOFF_BASE_MS: ms(30_000),
  REMEDIATION_BACKOFF_MAX_MS: ms(600_000),
  REMEDIATION_FREEZE_RATIO: z.coerce.number().gt(0).max(1).default(0.55),
  REMEDIATION_FREEZE_MIN_NODES: count(3),
});

export type RemediationConfig = z.output<typeof remediationConfigSchema>;

export function loadRemediationConfig(env: Record<string, string | undefined> = process.env): RemediationConfig {
  const parsed = remediationConfigSchema.safeParse(env);
  if (!parsed.success) throw new Error(`invalid remediation configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export function remediationLimits(c: RemediationConfig): RemediationLimits {
  return {
    maxAttempts: c.REMEDIATION_MAX_ATTEMPTS,
    cleanupMaxPerWindow: c.REMEDIATION_CLEANUP_MAX_PER_WINDOW,
    attemptWindowMs: c.REMEDIATION_ATTEMPT_WINDOW_MS,
    backoffBaseMs: c.REMEDIATION_BACKOFF_BASE_MS,
    backoffMaxMs: c.REMEDIATION_BACKOFF_MAX_MS,
  };
}

export function freezeThresholds(c: RemediationConfig): FreezeThresholds {
  return { ratio: c.REMEDIATION_FREEZE_RATIO, minNodes: c.REMEDIATION_FREEZE_MIN_NODES };
}
