import {
  corosyncHealthDetailSchema,
  galeraHealthDetailSchema,
  haproxyHealthDetailSchema,
  pacemakerHealthDetailSchema,
  rabbitmqHealthDetailSchema,
  type CorosyncHealthDetail,
  type GaleraHealthDetail,
  type HaproxyHealthDetail,
  type PacemakerHealthDetail,
  type RabbitmqHealthDetail,
} from '@triad/protocol';
import { z } from 'zod';

/** One component of a node's latest heartbeat, its `detail_json` parsed. */
export interface ComponentReport {
  component: string;
  /** ComponentState enum name: COMPONENT_OK, COMPONENT_DEGRADED, COMPONENT_DOWN, COMPONENT_UNKNOWN, COMPONENT_NOT_CONFIGURED. */
  state: string;
  summary: string;
  detail: unknown;
}

/** The detail schemas are the agent ↔ control plane contract (@triad/protocol); re-exported for this library's users. */
export { haproxyHealthDetailSchema, type HaproxyHealthDetail };

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The component list fleet keeps in Redis (`NodePresenceStore.latestHeartbeat().health`: ComponentHealth[] as JSON). */
export function reportsFromHeartbeat(healthJson: string): ComponentReport[] {
  const list = parseJson(healthJson);
  if (!Array.isArray(list)) return [];
  return list.flatMap((c: { component?: unknown; state?: unknown; summary?: unknown; detailJson?: unknown }) =>
    typeof c?.component === 'string'
      ? [{ component: c.component, state: String(c.state ?? ''), summary: String(c.summary ?? ''), detail: parseJson(String(c.detailJson ?? '')) }]
      : [],
  );
}

/** The snapshot on `nodes.health` (`{ reportedAt, components: [{ component, state, summary, detail }] }`). */
export function reportsFromSnapshot(health: Record<string, unknown> | null): ComponentReport[] {
  const list = health?.['components'];
  if (!Array.isArray(list)) return [];
  return list.flatMap((c: { component?: unknown; state?: unknown; summary?: unknown; detail?: unknown }) =>
    typeof c?.component === 'string' ? [{ component: c.component, state: String(c.state ?? ''), summary: String(c.summary ?? ''), detail: c.detail ?? undefined }] : [],
  );
}

/** The component as the node runs it: reported, and not COMPONENT_NOT_CONFIGURED (then it is not expected there). */
export function configured(reports: readonly ComponentReport[], component: string): ComponentReport | undefined {
  const r = reports.find((c) => c.component === component);
  return r && r.state !== 'COMPONENT_NOT_CONFIGURED' ? r : undefined;
}

function typed<T>(schema: z.ZodType<T>, report: ComponentReport | undefined): T | undefined {
  if (!report) return undefined;
  const parsed = schema.safeParse(report.detail);
  return parsed.success ? parsed.data : undefined;
}

export const pacemakerDetail = (r: ComponentReport | undefined): PacemakerHealthDetail | undefined => typed(pacemakerHealthDetailSchema, r);
export const corosyncDetail = (r: ComponentReport | undefined): CorosyncHealthDetail | undefined => typed(corosyncHealthDetailSchema, r);
export const galeraDetail = (r: ComponentReport | undefined): GaleraHealthDetail | undefined => typed(galeraHealthDetailSchema, r);
export const rabbitmqDetail = (r: ComponentReport | undefined): RabbitmqHealthDetail | undefined => typed(rabbitmqHealthDetailSchema, r);
export const haproxyDetail = (r: ComponentReport | undefined): HaproxyHealthDetail | undefined => typed(haproxyHealthDetailSchema, r);
