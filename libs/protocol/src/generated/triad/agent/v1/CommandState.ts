// Original file: proto/triad/agent/v1/agent.proto

export const CommandState = {
  COMMAND_STATE_UNSPECIFIED: 'COMMAND_STATE_UNSPECIFIED',
  COMMAND_RECEIVED: 'COMMAND_RECEIVED',
  COMMAND_RUNNING: 'COMMAND_RUNNING',
  COMMAND_SUCCEEDED: 'COMMAND_SUCCEEDED',
  COMMAND_FAILED: 'COMMAND_FAILED',
  COMMAND_REFUSED: 'COMMAND_REFUSED',
} as const;

export type CommandState =
  | 'COMMAND_STATE_UNSPECIFIED'
  | 0
  | 'COMMAND_RECEIVED'
  | 1
  | 'COMMAND_RUNNING'
  | 2
  | 'COMMAND_SUCCEEDED'
  | 3
  | 'COMMAND_FAILED'
  | 4
  | 'COMMAND_REFUSED'
  | 5

export type CommandState__Output = typeof CommandState[keyof typeof CommandState]
