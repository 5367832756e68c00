// Original file: proto/triad/agent/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface DesiredState {
  'revision'?: (number | string | Long);
}

export interface DesiredState__Output {
  'revision': (number);
}
