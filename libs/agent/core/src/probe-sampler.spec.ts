import type { ComponentHealth } from '@triad/protocol';
import { ProbeSampler, type Probed } from './probe-sampler';

/** A component whose probe answers when the test says so. */
function controlled(component: string) {
  let release: (h: ComponentHealth) => void = () => undefined;
  let calls = 0;
  const probed: Probed = {
    component,
    probe: () => {
      calls++;
      return new Promise<ComponentHealth>((resolve) => (release = resolve));
    },
  };
  return { probed, answer: (state: ComponentHealth['state'], summary: string) => release({ component, state, summary, detailJson: '' }), calls: () => calls };
}

const ok = (component: string): Probed => ({ component, probe: async () => ({ component, state: 'COMPONENT_OK', summary: `${component} fine`, detailJson: '' }) });

describe('ProbeSampler', () => {
  it('a hung probe does not hold the heartbeat: the others are reported fresh, the hung one keeps its last result, then turns UNKNOWN', async () => {
    let now = 0;
    const rabbit = controlled('rabbitmq');
    const sampler = new ProbeSampler([ok('haproxy'), rabbit.probed], { waitMs: 20, staleAfterMs: 30_000, now: () => now });

    const first = sampler.sample();
    rabbit.answer('COMPONENT_OK', '3 running');
    expect((await first).map((c) => [c.component, c.state])).toEqual([
      ['haproxy', 'COMPONENT_OK'],
      ['rabbitmq', 'COMPONENT_OK'],
    ]);

    // rabbitmqctl hangs from now on (a peer was cut off): the heartbeat still comes back in waitMs.
    now = 1_000;
    const t0 = Date.now();
    const second = await sampler.sample();
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(second.find((c) => c.component === 'rabbitmq')).toMatchObject({ state: 'COMPONENT_OK', summary: '3 running' });
    expect(rabbit.calls()).toBe(2);

    // No second probe is piled on while one runs; after 30 s the old result is not trusted.
    now = 31_000;
    const third = await sampler.sample();
    expect(rabbit.calls()).toBe(2);
    expect(third.find((c) => c.component === 'rabbitmq')).toMatchObject({ state: 'COMPONENT_UNKNOWN' });
    expect(third.find((c) => c.component === 'rabbitmq')?.summary).toMatch(/probe has not answered for 30 s; last result 31 s ago: 3 running/);
    expect(third.find((c) => c.component === 'haproxy')?.state).toBe('COMPONENT_OK');

    // When it finally answers, the next heartbeat carries the answer and a new probe starts.
    rabbit.answer('COMPONENT_DEGRADED', '2 of 3 running');
    await new Promise((r) => setImmediate(r));
    const fourth = sampler.sample();
    expect(rabbit.calls()).toBe(3);
    rabbit.answer('COMPONENT_DEGRADED', '2 of 3 running');
    expect((await fourth).find((c) => c.component === 'rabbitmq')).toMatchObject({ state: 'COMPONENT_DEGRADED', summary: '2 of 3 running' });
  });

  it('a probe that throws is reported UNKNOWN with its error, and the first heartbeat says a probe is still running', async () => {
    const broken: Probed = { component: 'galera', probe: () => Promise.reject(new Error('mysql: cannot connect')) };
    const slow = controlled('pacemaker');
    const sampler = new ProbeSampler([broken, slow.probed], { waitMs: 10, staleAfterMs: 30_000 });
    const health = await sampler.sample();
    expect(health).toEqual([
      { component: 'galera', state: 'COMPONENT_UNKNOWN', summary: 'probe failed: mysql: cannot connect', detailJson: '' },
      { component: 'pacemaker', state: 'COMPONENT_UNKNOWN', summary: 'first probe still running', detailJson: '' },
    ]);
    slow.answer('COMPONENT_OK', 'fine');
    await sampler.settle();
  });
});
