import { z } from 'zod';

const ms = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** The health monitor's settings (worker), parsed once at start like loadServerConfig. */
export const healthConfigSchema = z.object({
  /** How often every cluster with a desired revision is evaluated. */
  HEALTH_INTERVAL_MS: ms(1_000),
  /** How long a problem with a Pacemaker-managed resource is left to Pacemaker before it is Triad's. */
  HEALTH_PACEMAKER_GRACE_MS: ms(60_000),
  /** An unchanged open finding's last_seen_at is written at most this often (a change is written at once). */
  HEALTH_REFRESH_MS: ms(30_000),
});

export type HealthConfig = z.output<typeof healthConfigSchema>;

export function loadHealthConfig(env: Record<string, string | undefined> = process.env): HealthConfig {
  const parsed = healthConfigSchema.safeParse(env);
  if (!parsed.success) throw new Error(`invalid health configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
