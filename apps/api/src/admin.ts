// Operator commands that run beside the api, against the same database.
//   node -r @swc-node/register apps/api/src/admin.ts bootstrap-tenant --name NAME --slug SLUG --out FILE [--rotate]
import 'reflect-metadata';
import { chmodSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { bootstrapTenant } from '@triad/auth';
import { createDataSource } from '@triad/db';
import { loadDatabaseConfig } from '@triad/server-core';
import { Command } from 'commander';

const program = new Command('triad-admin');

program
  .command('bootstrap-tenant')
  .description('create a tenant and its first owner API token, written to --out (mode 600); refuses an existing slug unless --rotate')
  .requiredOption('--name <name>', 'tenant display name')
  .requiredOption('--slug <slug>', 'unique tenant slug')
  .requiredOption('--out <file>', 'file to write the owner token to')
  .option('--rotate', 'for an existing tenant: revoke its owner tokens and issue a new one', false)
  .action(async (opts: { name: string; slug: string; out: string; rotate: boolean }) => {
    const ds = await createDataSource(loadDatabaseConfig().DATABASE_URL, { applicationName: 'triad-admin' }).initialize();
    try {
      const result = await bootstrapTenant(ds, opts);
      const out = resolve(opts.out);
      writeFileSync(out, `${result.secret}\n`, { mode: 0o600 });
      chmodSync(out, 0o600); // mode above applies only to a new file
      process.stdout.write(
        `${result.created ? 'created tenant' : 'rotated owner token of tenant'} ${result.tenant.slug} (${result.tenant.id}); owner token ${result.token.prefix}… written to ${out}\n`,
      );
    } finally {
      await ds.destroy();
    }
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
