import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterSpecJsonSchemaText } from './json-schema';

describe(clusterSpecJsonSchemaText.name, () => {
  it('matches the committed docs/spec.schema.json (regenerate with libs/spec/scripts/write-json-schema.ts)', () => {
    const committed = readFileSync(join(__dirname, '../../../docs/spec.schema.json'), 'utf8');
    expect(committed).toBe(clusterSpecJsonSchemaText());
  });

  it('describes the fields a person writes, with their defaults and patterns', () => {
    const schema = JSON.parse(clusterSpecJsonSchemaText()) as {
      required: string[];
      properties: Record<string, { properties?: Record<string, { default?: unknown; pattern?: string }> }>;
    };
    expect(schema.required).toEqual(['apiVersion', 'metadata', 'topology', 'rabbitmq']);
    expect(schema.properties['galera'].properties?.['clustercheckPort'].default).toBe(9200);
    expect(schema.properties['metadata'].properties?.['name'].pattern).toBe('^[a-z][a-z0-9-]{0,62}$');
  });
});
