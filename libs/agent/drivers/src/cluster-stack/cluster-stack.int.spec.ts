import { createLogger } from '@triad/logging';
import { ClusterStack, ClusterStackError } from './cluster-stack';

// On this host nothing runs corosync or Pacemaker outside the labs' namespaces: the real tools say
// so. Starting and stopping a live stack is covered by the lab end-to-end tests (tools/lab/cluster-stack.sh).
describe(ClusterStack.name, () => {
  const logger = createLogger('cluster-stack-test', { level: 'silent' });

  it('reads from the daemons themselves that neither corosync nor pacemaker runs here', async () => {
    const stack = new ClusterStack({ startCommands: [['/bin/true']], stopCommands: [['/bin/true']], logger });
    expect(await stack.isRunning()).toEqual({ corosync: false, pacemaker: false });
  });

  it('fails a start with the command, its exit code and its output, running no later command', async () => {
    const stack = new ClusterStack({ startCommands: [['/bin/sh', '-c', 'echo unit corosync.service not found >&2; exit 5'], ['/bin/sh', '-c', 'exit 0']], stopCommands: [['/bin/true']], logger });
    await expect(stack.start()).rejects.toThrow(ClusterStackError);
    await expect(stack.start()).rejects.toThrow("cluster stack start: `/bin/sh -c echo unit corosync.service not found >&2; exit 5` exited 5: unit corosync.service not found");
  });

  it('does not call a start done until corosync and pacemaker answer', async () => {
    const stack = new ClusterStack({ startCommands: [['/bin/true']], stopCommands: [['/bin/true']], logger, readyTimeoutMs: 1_000 });
    await expect(stack.start()).rejects.toThrow('cluster stack start: after 1000 ms corosync is not running and pacemaker not running');
  });

  it('stops: resolves once neither answers', async () => {
    const stack = new ClusterStack({ startCommands: [['/bin/true']], stopCommands: [['/bin/true'], ['/bin/true']], logger, readyTimeoutMs: 1_000 });
    await expect(stack.stop()).resolves.toBeUndefined();
  });
});
