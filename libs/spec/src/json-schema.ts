import { z } from 'zod';
import { clusterSpecSchema } from './cluster-spec.schema';

/**
 * The JSON Schema of a spec as a person writes it (input side: fields with defaults are
 * optional). Editors use it for completion; docs/spec.schema.json is this text, and a test fails
 * when the committed file is stale.
 */
export function clusterSpecJsonSchemaText(): string {
  const schema = z.toJSONSchema(clusterSpecSchema, { io: 'input', target: 'draft-2020-12' });
  return `${JSON.stringify({ $id: 'https://triad.io/schemas/cluster-spec-v1.json', ...schema }, null, 2)}\n`;
}
