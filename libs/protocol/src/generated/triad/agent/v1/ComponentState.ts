// Original file: proto/triad/agent/v1/agent.proto

export const ComponentState = {
  COMPONENT_STATE_UNSPECIFIED: 'COMPONENT_STATE_UNSPECIFIED',
  COMPONENT_OK: 'COMPONENT_OK',
  COMPONENT_DEGRADED: 'COMPONENT_DEGRADED',
  COMPONENT_DOWN: 'COMPONENT_DOWN',
  COMPONENT_UNKNOWN: 'COMPONENT_UNKNOWN',
  COMPONENT_NOT_CONFIGURED: 'COMPONENT_NOT_CONFIGURED',
} as const;

export type ComponentState =
  | 'COMPONENT_STATE_UNSPECIFIED'
  | 0
  | 'COMPONENT_OK'
  | 1
  | 'COMPONENT_DEGRADED'
  | 2
  | 'COMPONENT_DOWN'
  | 3
  | 'COMPONENT_UNKNOWN'
  | 4
  | 'COMPONENT_NOT_CONFIGURED'
  | 5

export type ComponentState__Output = typeof ComponentState[keyof typeof ComponentState]
