import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { CommandRefusedError, NODE_ACTION_NAMES, PACEMAKER_ID_PATTERN, signCommand, verifyCommand, type CommandEnvelope, type NodeActionName, type VerifiedCommand } from './command';

describe('verifyCommand', () => {
  const cp = generateKeyPairSync('ed25519');
  const forger = generateKeyPairSync('ed25519');
  const tenantId = randomUUID();
  const nodeId = randomUUID();
  const now = new Date('2026-01-01T00:00:00Z');

  function envelope(overrides: Partial<CommandEnvelope> = {}): CommandEnvelope {
    return {
      v: 1,
      id: randomUUID(),
      tenantId,
      nodeId,
      generation: 3,
      issuedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + 60_000).toISOString(),
      verb: 'apply_revision',
      params: { clusterId: randomUUID(), revision: 2, nodeName: 'controller-1', spec: {}, artifacts: [] },
      ...overrides,
    };
  }

  function refusal(fn: () => unknown): string {
    try {
      fn();
    } catch (e) {
      if (e instanceof CommandRefusedError) return e.reason;
      throw e;
    }
    throw new Error('expected a refusal');
  }

  it('accepts a command signed by the control plane key and addressed to this node', () => {
    const cmd = verifyCommand(signCommand(envelope(), cp.privateKey, 'k1'), cp.publicKey, { tenantId, nodeId, now });
    expect(cmd.verb).toBe('apply_revision');
    expect(cmd.params.nodeName).toBe('controller-1');
  });

  it('refuses a command signed by another key', () => {
    const wire = signCommand(envelope(), forger.privateKey, 'k1');
    expect(refusal(() => verifyCommand(wire, cp.publicKey, { tenantId, nodeId, now }))).toBe('BAD_SIGNATURE');
  });

  it('refuses a payload altered after signing', () => {
    const wire = signCommand(envelope(), cp.privateKey, 'k1');
    const tampered = JSON.parse(Buffer.from(wire.payload, 'base64').toString());
    tampered.generation = 99;
    wire.payload = Buffer.from(JSON.stringify(tampered)).toString('base64');
    expect(refusal(() => verifyCommand(wire, cp.publicKey, { tenantId, nodeId, now }))).toBe('BAD_SIGNATURE');
  });

  it('refuses an expired command', () => {
    const wire = signCommand(envelope({ expiresAt: new Date(now.getTime() - 1).toISOString() }), cp.privateKey, 'k1');
    expect(refusal(() => verifyCommand(wire, cp.publicKey, { tenantId, nodeId, now }))).toBe('EXPIRED');
  });

  it('refuses a command for another node', () => {
    const wire = signCommand(envelope({ nodeId: randomUUID() }), cp.privateKey, 'k1');
    expect(refusal(() => verifyCommand(wire, cp.publicKey, { tenantId, nodeId, now }))).toBe('WRONG_NODE');
  });

  it('refuses an unknown verb and bad parameters', () => {
    const unknown = signCommand(envelope({ verb: 'run_shell' }), cp.privateKey, 'k1');
    expect(refusal(() => verifyCommand(unknown, cp.publicKey, { tenantId, nodeId, now }))).toBe('UNKNOWN_VERB');
    const bad = signCommand(envelope({ params: { revision: -1 } }), cp.privateKey, 'k1');
    expect(refusal(() => verifyCommand(bad, cp.publicKey, { tenantId, nodeId, now }))).toBe('BAD_PARAMS');
  });
});

describe('run_action params', () => {
  const cp = generateKeyPairSync('ed25519');
  const tenantId = randomUUID();
  const nodeId = randomUUID();
  const clusterId = randomUUID();
  const now = new Date('2026-01-01T00:00:00Z');

  function runAction(params: unknown): VerifiedCommand {
    const env: CommandEnvelope = { v: 1, id: randomUUID(), tenantId, nodeId, generation: 1, issuedAt: now.toISOString(), expiresAt: new Date(now.getTime() + 60_000).toISOString(), verb: 'run_action', params };
    return verifyCommand(signCommand(env, cp.privateKey, 'k1'), cp.publicKey, { tenantId, nodeId, now });
  }

  function refusal(params: unknown): { reason: string; message: string } {
    try {
      runAction(params);
    } catch (e) {
      if (e instanceof CommandRefusedError) return { reason: e.reason, message: e.message };
      throw e;
    }
    throw new Error('expected a refusal');
  }

  const base = { clusterId, nodeName: 'controller-1' };

  it('accepts every action of the contract with its arguments', () => {
    const cases: Array<[NodeActionName, Record<string, unknown>]> = [
      ['cluster_stack.start', {}],
      ['cluster_stack.restart', {}],
      ['pacemaker.cleanup', { resource: 'galera-clone' }],
      ['pacemaker.cleanup', { resource: 'rabbitmq:1' }],
      ['pacemaker.set_managed', { resource: 'vip_internal', managed: false }],
      ['pacemaker.set_maintenance', { on: true }],
      ['galera.report_position', {}],
      ['galera.bootstrap', {}],
      ['galera.bootstrap', { force: true }],
      ['galera.join', {}],
      ['rabbitmq.restart', {}],
      ['rabbitmq.rejoin', {}],
    ];
    for (const [action, args] of cases) {
      const cmd = runAction({ ...base, action, args });
      expect(cmd.verb).toBe('run_action');
      expect(cmd.params).toEqual({ ...base, action, args });
    }
    expect(new Set(cases.map(([a]) => a))).toEqual(new Set(NODE_ACTION_NAMES));
  });

  it('refuses an unknown action as UNKNOWN_ACTION, naming the known ones', () => {
    const r = refusal({ ...base, action: 'galera.drop_database', args: {} });
    expect(r.reason).toBe('UNKNOWN_ACTION');
    expect(r.message).toContain('galera.bootstrap');
  });

  it.each([
    ['a resource id that would be read as an option', { action: 'pacemaker.cleanup', args: { resource: '--force' } }, 'params.args.resource'],
    ['a resource id with shell characters', { action: 'pacemaker.cleanup', args: { resource: 'galera; rm -rf /' } }, 'params.args.resource'],
    ['a resource id with a space', { action: 'pacemaker.set_managed', args: { resource: 'a b', managed: true } }, 'params.args.resource'],
    ['managed as a string', { action: 'pacemaker.set_managed', args: { resource: 'galera', managed: 'false' } }, 'params.args.managed'],
    ['a missing resource', { action: 'pacemaker.cleanup', args: {} }, 'params.args.resource'],
    ['an argument the action does not take', { action: 'galera.join', args: { donor: 'controller-2' } }, 'params.args'],
    ['force that is not a boolean', { action: 'galera.bootstrap', args: { force: 1 } }, 'params.args.force'],
    ['a node name with a path', { action: 'galera.join', args: {}, nodeName: '../controller-1' }, 'params.nodeName'],
  ])('refuses %s as BAD_PARAMS', (_what, params, path) => {
    const r = refusal({ ...base, ...params });
    expect(r.reason).toBe('BAD_PARAMS');
    expect(r.message.startsWith(`${path}:`)).toBe(true);
  });

  it('accepts only Pacemaker ids for resources', () => {
    for (const ok of ['galera', 'galera-clone', 'ip_10.0.0.5', '_x', 'rabbitmq-bundle:2']) expect(PACEMAKER_ID_PATTERN.test(ok)).toBe(true);
    for (const bad of ['', '-x', '1abc', 'a/b', 'a$b', 'a\nb', 'x'.repeat(200)]) expect(PACEMAKER_ID_PATTERN.test(bad)).toBe(false);
  });
});
