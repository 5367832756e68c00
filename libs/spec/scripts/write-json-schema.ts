// Regenerates docs/spec.schema.json from the zod model:
//   SWC_NODE_PROJECT=tsconfig.json node -r @swc-node/register libs/spec/scripts/write-json-schema.ts
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterSpecJsonSchemaText } from '../src/json-schema';

const target = join(__dirname, '../../../docs/spec.schema.json');
writeFileSync(target, clusterSpecJsonSchemaText());
process.stdout.write(`wrote ${target}\n`);
