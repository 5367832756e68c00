import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { renderCib, renderNode, whatIf } from '@triad/render';
import { NAME_PATTERN, specNodeNames, type SpecValidation } from '@triad/spec';
import { formatProblem, loadSpecFile } from './spec-loader';

/** Prints problems; returns the spec only when it has no error. */
function report(validation: SpecValidation): SpecValidation['spec'] {
  for (const p of validation.problems) process.stderr.write(`${formatProblem(p)}\n`);
  return validation.spec;
}

function nodeName(value: string): string {
  if (!NAME_PATTERN.test(value)) throw new InvalidArgumentError('not a node name');
  return value;
}

const program = new Command('triad')
  .description('Validate and render Triad cluster specs (HAProxy, Pacemaker CIB, Corosync, Galera, RabbitMQ)')
  .showHelpAfterError();

program
  .command('validate')
  .description('Report every problem of a spec; exit 1 when one is an error (warnings alone exit 0)')
  .requiredOption('--spec <file>', 'spec file (YAML or JSON)')
  .option('--json', 'print { valid, problems } as JSON on stdout instead of lines on stderr')
  .action(async (opts: { spec: string; json?: boolean }) => {
    const validation = await loadSpecFile(opts.spec);
    if (opts.json) {
      const valid = validation.spec !== undefined;
      process.stdout.write(`${JSON.stringify({ valid, problems: validation.problems }, null, 2)}\n`);
      if (!valid) process.exitCode = 1;
      return;
    }
    const spec = report(validation);
    if (!spec) {
      process.exitCode = 1;
      return;
    }
    process.stdout.write(`${opts.spec}: valid (${specNodeNames(spec).length} nodes, ${spec.services.length} services)\n`);
  });

program
  .command('render')
  .description('Render every artifact of every node (or one) into OUT/<node>/')
  .requiredOption('--spec <file>', 'spec file (YAML or JSON)')
  .requiredOption('--out <dir>', 'output directory')
  .option('--node <name>', 'render only this node', nodeName)
  .action(async (opts: { spec: string; out: string; node?: string }) => {
    const spec = report(await loadSpecFile(opts.spec));
    if (!spec) {
      process.exitCode = 1;
      return;
    }
    const nodes = opts.node ? [opts.node] : specNodeNames(spec);
    for (const node of nodes) {
      const artifacts = renderNode(spec, node);
      const dir = join(opts.out, node);
      await mkdir(dir, { recursive: true });
      for (const a of artifacts) {
        await writeFile(join(dir, a.name), a.content);
        process.stdout.write(`${join(dir, a.name)} sha256:${a.sha256}\n`);
      }
    }
  });

program
  .command('what-if')
  .description('Simulate the loss of each node with crm_simulate and show where VIPs and the Galera writer go')
  .requiredOption('--spec <file>', 'spec file (YAML or JSON)')
  .action(async (opts: { spec: string }) => {
    const spec = report(await loadSpecFile(opts.spec));
    if (!spec) {
      process.exitCode = 1;
      return;
    }
    const nodes = specNodeNames(spec);
    const result = await whatIf(renderCib(spec, nodes[0]).content, nodes);
    const show = (title: string, vips: Record<string, string | null>, galera: string[]): void => {
      process.stdout.write(`${title}\n`);
      for (const [vip, node] of Object.entries(vips)) process.stdout.write(`  ${vip.padEnd(28)} ${node ?? 'NOWHERE'}\n`);
      process.stdout.write(`  ${'galera promoted'.padEnd(28)} ${galera.join(', ') || 'NOWHERE'}\n`);
    };
    show('All nodes up:', result.placement.vips, result.placement.galeraPromotedNodes);
    for (const loss of result.losses)
      show(`Without ${loss.lostNode}:`, loss.placement.vips, loss.placement.galeraPromotedNodes);
    for (const p of result.problems) process.stderr.write(`ERROR ${p.code}: ${p.message}\n`);
    if (result.problems.length > 0) process.exitCode = 1;
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`triad: ${(error as Error).message}\n`);
  process.exitCode = 2;
});
