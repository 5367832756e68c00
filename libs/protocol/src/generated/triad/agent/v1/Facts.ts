// Original file: proto/triad/agent/v1/agent.proto


export interface Facts {
  'hostname'?: (string);
  'machineId'?: (string);
  'addresses'?: (string)[];
  'agentVersion'?: (string);
  'versions'?: ({[key: string]: string});
  'os'?: (string);
}

export interface Facts__Output {
  'hostname': (string);
  'machineId': (string);
  'addresses': (string)[];
  'agentVersion': (string);
  'versions': ({[key: string]: string});
  'os': (string);
}
