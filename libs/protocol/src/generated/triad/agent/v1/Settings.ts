// Original file: proto/triad/agent/v1/agent.proto


export interface Settings {
  'heartbeatIntervalMs'?: (number);
}

export interface Settings__Output {
  'heartbeatIntervalMs': (number);
}
