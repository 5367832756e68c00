/**
 * `tools/lab/lab VERB …`: the lab from a shell. Every verb works from a fresh process: the lab's
 * state file says what `up` created.
 */
import { spawnSync } from 'node:child_process';
import { Command } from 'commander';
import { LAB_RESOURCES, renderLabClusterFiles, startClusterStack } from './cluster-stack';
import { labClusterSpec } from './lab-cluster-spec';
import { DEFAULT_STATE_ROOT } from './lab-state';
import { Lab, type LabStatus } from './lab';

function printStatus(status: LabStatus): void {
  console.log(`lab ${status.name} (${status.phase})  gateway ${status.gatewayAddress}  dir ${status.dir}`);
  for (const c of status.controllers) {
    const anchor = c.anchorAlive ? `anchor ${c.anchorPid}` : c.stopped ? 'stopped' : 'anchor DEAD';
    console.log(`  ${c.name.padEnd(14)} ${c.address.padEnd(13)} ${c.netns.padEnd(12)} link ${c.link.padEnd(7)} ${anchor}`);
    for (const p of c.processes) console.log(`      ${p.name.padEnd(14)} pid ${String(p.pid ?? '-').padEnd(8)} ${p.alive ? 'alive' : 'dead '}  ${p.logFile}`);
  }
}

const program = new Command('lab')
  .description('Triad lab: controller nodes as network namespaces on this machine (docs/lab.md)')
  .option('--name <lab>', 'lab name (namespaces <lab>-sw, <lab>-c1…)', 'triad')
  .option('--state-root <dir>', 'where labs keep state', DEFAULT_STATE_ROOT);

const labOpts = () => program.opts<{ name: string; stateRoot: string }>();
const open = () => Lab.open(labOpts().name, labOpts().stateRoot);

program
  .command('up')
  .argument('[controllers]', 'number of controllers', '3')
  .option('--net <n>', 'lab subnet 10.77.<n>.0/24 (default 0 for the lab "triad", else the first free)')
  .option('--services <list>', 'stand-in services as name=port,… ("none" for none)')
  .action(async (controllers: string, opts: { net?: string; services?: string }) => {
    const t0 = Date.now();
    const services =
      opts.services === undefined
        ? undefined
        : opts.services === 'none'
          ? []
          : opts.services.split(',').map((entry) => {
              const [name = '', port = ''] = entry.split('=');
              return { name, port: Number(port) };
            });
    try {
      const lab = await Lab.up({ name: labOpts().name, stateRoot: labOpts().stateRoot, controllers: Number(controllers), net: opts.net === undefined ? undefined : Number(opts.net), services });
      printStatus(await lab.status());
      console.log(`up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    } catch (error) {
      console.error(`up failed: ${(error as Error).message}\nclean up with: tools/lab/lab --name ${labOpts().name} down`);
      process.exitCode = 1;
    }
  });

program
  .command('add')
  .description('add a controller to the running lab (controller-<next>: stand-ins, nothing configured), e.g. to enroll it for scale-out')
  .action(async () => {
    const t0 = Date.now();
    const lab = open();
    const c = await lab.add();
    printStatus(await lab.status());
    console.log(`${c.name} (${c.address}) added in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

program.command('down').action(async () => {
  const t0 = Date.now();
  await Lab.down(labOpts().name, labOpts().stateRoot);
  console.log(`lab ${labOpts().name} removed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

program
  .command('list')
  .description('every lab under the state root, running or left behind')
  .action(() => {
    for (const l of Lab.list(labOpts().stateRoot)) {
      console.log(`${l.name.padEnd(13)} ${(l.subnet ?? '-').padEnd(15)} ${(l.phase ?? 'no state').padEnd(9)} ${l.controllersRunning}/${l.controllers} controllers running`);
    }
  });

program
  .command('status')
  .option('--json', 'machine-readable')
  .action(async (opts: { json?: boolean }) => {
    const status = await open().status();
    if (opts.json) console.log(JSON.stringify(status, null, 2));
    else printStatus(status);
  });

program
  .command('exec')
  .description('run a command inside a controller: exec NODE -- CMD…')
  .argument('<node>')
  .argument('<command...>')
  .action((node: string, command: string[]) => {
    const [bin = 'nsenter', ...args] = open().enterCommand(node, command);
    const result = spawnSync(bin, args, { stdio: 'inherit' });
    process.exitCode = result.status ?? 1;
  });

program
  .command('spawn')
  .description('start a supervised process inside a controller: spawn NODE NAME -- CMD…')
  .argument('<node>')
  .argument('<name>')
  .argument('<command...>')
  .action(async (node: string, name: string, command: string[]) => {
    const p = await open().spawn(node, name, command, { cwd: process.cwd() });
    console.log(`${name} on ${node}: pid ${p.pid}, log ${p.logFile}`);
  });

program
  .command('kill')
  .description('kill -9 a supervised process (by name) or a process by its name inside the controller')
  .argument('<node>')
  .argument('<component>')
  .action(async (node: string, component: string) => {
    console.log(`killed ${(await open().kill(node, component)).join(' ')}`);
  });

for (const [verb, description] of [
  ['cut', 'take the controller off the network (eth0 down)'],
  ['heal', 'put it back (eth0 up)'],
  ['stop', 'power the controller off: link down, every process in it killed'],
  ['start', 'power it on: same state dirs, fresh /run, supervised processes restarted'],
] as const) {
  program
    .command(verb)
    .description(description)
    .argument('<node>')
    .action(async (node: string) => {
      await open()[verb](node);
      console.log(`${verb} ${node}: done`);
    });
}

program
  .command('cluster')
  .description('without Triad agents: start Corosync + Pacemaker in every controller from the lab spec, rendered by @triad/render (with agents, their drivers do this)')
  .option('--resources <set>', `what Pacemaker manages: ${LAB_RESOURCES.join(' | ')}`, 'none')
  .action(async (opts: { resources: string }) => {
    const resources = LAB_RESOURCES.find((r) => r === opts.resources);
    if (!resources) throw new Error(`--resources: one of ${LAB_RESOURCES.join(', ')}`);
    const lab = open();
    const { membership, elapsedMs } = await startClusterStack(lab, renderLabClusterFiles(lab, labClusterSpec(lab), resources));
    console.log(`cluster formed in ${(elapsedMs / 1000).toFixed(1)} s: online ${membership.online.join(', ')}; DC ${membership.dc}`);
  });

program
  .command('spec')
  .description('print the lab cluster spec (what `cluster` renders from) as JSON, e.g. for updateClusterSpec')
  .action(() => console.log(JSON.stringify(labClusterSpec(open()), null, 2)));

program
  .command('agent')
  .description('start the Triad agent inside a controller, configured by the TRIAD_* variables of this environment (docs/agent.md)')
  .argument('<node>')
  .action(async (node: string) => {
    const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('TRIAD_') && e[1] !== undefined));
    const p = await open().spawnAgent(node, env);
    console.log(`agent on ${node}: pid ${p.pid}, log ${p.logFile}`);
  });

program.parseAsync(process.argv).catch((error: Error) => {
  console.error(error.message);
  process.exitCode = 1;
});
