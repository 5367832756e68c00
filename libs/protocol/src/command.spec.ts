import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { CommandRefusedError, signCommand, verifyCommand, type CommandEnvelope } from './command';

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
