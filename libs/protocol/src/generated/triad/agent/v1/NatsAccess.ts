// Original file: proto/triad/agent/v1/agent.proto


export interface NatsAccess {
  'servers'?: (string)[];
  'userJwt'?: (string);
  'stream'?: (string);
  'consumer'?: (string);
  'subject'?: (string);
  'inboxPrefix'?: (string);
}

export interface NatsAccess__Output {
  'servers': (string)[];
  'userJwt': (string);
  'stream': (string);
  'consumer': (string);
  'subject': (string);
  'inboxPrefix': (string);
}
