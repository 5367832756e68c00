// Original file: proto/triad/agent/v1/agent.proto


export interface ArtifactDigest {
  'name'?: (string);
  'sha256'?: (string);
}

export interface ArtifactDigest__Output {
  'name': (string);
  'sha256': (string);
}
