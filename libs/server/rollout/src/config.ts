import { z } from 'zod';
import type { RolloutTimings } from './rollout-plan';

const ms = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);

/** The rollout driver's settings (worker), parsed once at start like loadServerConfig. */
export const rolloutConfigSchema = z.object({
  /** How often a running rollout is re-read and advanced. */
  ROLLOUT_POLL_INTERVAL_MS: ms(500),
  /** Safety net: how often clusters with an active rollout (or a revision without one) are (re)queued. */
  ROLLOUT_SWEEP_INTERVAL_MS: ms(5_000),
  ROLLOUT_APPLY_TIMEOUT_MS: ms(600_000),
  /** haproxy marks a backend that refuses connections DOWN about 1–2 s after a reload; heartbeats before that prove little. */
  ROLLOUT_HEALTH_GRACE_MS: ms(5_000),
  ROLLOUT_HEALTH_TIMEOUT_MS: ms(120_000),
});

export type RolloutConfig = z.output<typeof rolloutConfigSchema>;

export function loadRolloutConfig(env: Record<string, string | undefined> = process.env): RolloutConfig {
  const parsed = rolloutConfigSchema.safeParse(env);
  if (!parsed.success) throw new Error(`invalid rollout configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export function rolloutTimings(config: RolloutConfig): RolloutTimings {
  return { applyTimeoutMs: config.ROLLOUT_APPLY_TIMEOUT_MS, healthGraceMs: config.ROLLOUT_HEALTH_GRACE_MS, healthTimeoutMs: config.ROLLOUT_HEALTH_TIMEOUT_MS };
}
