import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';

/**
 * A command is a JSON envelope, signed by the control plane with ed25519 over its exact bytes.
 * On the wire: `{"payload":"<base64 of envelope JSON>","sig":"<base64>","kid":"<key id>"}`.
 * Signing the bytes (not a re-serialisation) means no canonical-JSON ambiguity.
 */

const digest = z.object({ name: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/) });

/** Bring a node to a cluster revision: render from `spec` for `nodeName`, check hashes, apply. */
export const applyRevisionParams = z.object({
  clusterId: z.string().uuid(),
  revision: z.number().int().positive(),
  nodeName: z.string().min(1),
  spec: z.unknown(),
  artifacts: z.array(digest),
});

/**
 * A Pacemaker resource id as it reaches `crm_resource`/`cibadmin` argv (never a shell): an XML id
 * (letter or `_` first, then letters, digits, `_`, `.`, `-`), with an optional `:<n>` clone
 * instance suffix. A leading `-` could be read as an option, so it is impossible here.
 */
export const PACEMAKER_ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}(:\d{1,3})?$/;
const pacemakerId = z.string().regex(PACEMAKER_ID_PATTERN, { error: 'must be a Pacemaker resource id (a letter or _ first, then letters, digits, _ . -)' });

/** Names of cluster nodes (the spec's NAME_PATTERN): they are compared, never run. */
const nodeName = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, { error: 'must be a node name (a-z, 0-9 and -, a letter first)' });

const noArgs = z.strictObject({});

/**
 * The repair operations an agent performs on its own node for remediation (`run_action`). Each
 * action has its own strict argument schema: unknown keys are refused, not ignored.
 */
export const nodeActionArgs = {
  'cluster_stack.start': noArgs,
  'cluster_stack.restart': noArgs,
  'pacemaker.cleanup': z.strictObject({ resource: pacemakerId }),
  'pacemaker.set_managed': z.strictObject({ resource: pacemakerId, managed: z.boolean() }),
  'pacemaker.set_maintenance': z.strictObject({ on: z.boolean() }),
  'galera.report_position': noArgs,
  /** force: mark safe_to_bootstrap first. Only after an operator approved bootstrapping this node. */
  'galera.bootstrap': z.strictObject({ force: z.boolean().optional() }),
  'galera.join': noArgs,
  'rabbitmq.restart': noArgs,
  'rabbitmq.rejoin': noArgs,
} as const;

export type NodeActionName = keyof typeof nodeActionArgs;
export const NODE_ACTION_NAMES = Object.keys(nodeActionArgs) as NodeActionName[];
export type NodeActionArgs<A extends NodeActionName> = z.infer<(typeof nodeActionArgs)[A]>;

const actionVariant = <A extends NodeActionName>(action: A) =>
  z.strictObject({ clusterId: z.string().uuid(), nodeName, action: z.literal(action), args: nodeActionArgs[action] });

/** Run one repair operation on one node: `{ clusterId, nodeName, action, args }`, args per action. */
export const runActionParams = z.discriminatedUnion('action', [
  actionVariant('cluster_stack.start'),
  actionVariant('cluster_stack.restart'),
  actionVariant('pacemaker.cleanup'),
  actionVariant('pacemaker.set_managed'),
  actionVariant('pacemaker.set_maintenance'),
  actionVariant('galera.report_position'),
  actionVariant('galera.bootstrap'),
  actionVariant('galera.join'),
  actionVariant('rabbitmq.restart'),
  actionVariant('rabbitmq.rejoin'),
]);
export type RunActionParams = z.infer<typeof runActionParams>;

export const commandVerbs = {
  apply_revision: applyRevisionParams,
  run_action: runActionParams,
} as const;

export type CommandVerb = keyof typeof commandVerbs;
export type CommandParams<V extends CommandVerb> = z.infer<(typeof commandVerbs)[V]>;

export const commandEnvelopeSchema = z.object({
  v: z.literal(1),
  id: z.string().uuid(),
  tenantId: z.string().uuid(),
  nodeId: z.string().uuid(),
  generation: z.number().int().positive(),
  issuedAt: z.string().datetime(),
  expiresAt: z.string().datetime(),
  verb: z.string(),
  params: z.unknown(),
});

export type CommandEnvelope = z.infer<typeof commandEnvelopeSchema>;

export const signedCommandSchema = z.object({
  payload: z.string().min(1),
  sig: z.string().min(1),
  kid: z.string().min(1),
});
export type SignedCommand = z.infer<typeof signedCommandSchema>;

export function signCommand(envelope: CommandEnvelope, privateKey: KeyObject, kid: string): SignedCommand {
  const bytes = Buffer.from(JSON.stringify(commandEnvelopeSchema.parse(envelope)), 'utf8');
  return { payload: bytes.toString('base64'), sig: sign(null, bytes, privateKey).toString('base64'), kid };
}

export type CommandRefusal =
  | 'BAD_SIGNATURE'
  | 'EXPIRED'
  | 'REPLAYED'
  | 'STALE_GENERATION'
  | 'WRONG_NODE'
  | 'BAD_PARAMS'
  | 'UNKNOWN_VERB'
  | 'UNKNOWN_ACTION';

export class CommandRefusedError extends Error {
  constructor(
    readonly reason: CommandRefusal,
    message: string,
    readonly commandId?: string,
  ) {
    super(message);
    this.name = 'CommandRefusedError';
  }
}

export type VerifiedCommand = {
  [V in CommandVerb]: Omit<CommandEnvelope, 'verb' | 'params'> & { verb: V; params: CommandParams<V> };
}[CommandVerb];

/**
 * Checks what can be checked without agent state: wire shape, signature, node, expiry, verb and
 * parameter schema. Replay and generation checks need the agent's journal and happen there.
 */
export function verifyCommand(
  wire: unknown,
  publicKey: KeyObject,
  expect: { tenantId: string; nodeId: string; now: Date },
): VerifiedCommand {
  const shape = signedCommandSchema.safeParse(wire);
  if (!shape.success) throw new CommandRefusedError('BAD_SIGNATURE', 'not a signed command envelope');
  const bytes = Buffer.from(shape.data.payload, 'base64');
  let signatureOk = false;
  try {
    signatureOk = verify(null, bytes, publicKey, Buffer.from(shape.data.sig, 'base64'));
  } catch {
    signatureOk = false;
  }
  if (!signatureOk) throw new CommandRefusedError('BAD_SIGNATURE', 'signature does not match the control plane key');

  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new CommandRefusedError('BAD_PARAMS', 'payload is not JSON');
  }
  const env = commandEnvelopeSchema.safeParse(json);
  if (!env.success) throw new CommandRefusedError('BAD_PARAMS', `envelope invalid: ${env.error.issues[0]?.message}`);
  const e = env.data;
  if (e.tenantId !== expect.tenantId || e.nodeId !== expect.nodeId) {
    throw new CommandRefusedError('WRONG_NODE', `command is addressed to node ${e.nodeId}`, e.id);
  }
  if (Date.parse(e.expiresAt) <= expect.now.getTime()) {
    throw new CommandRefusedError('EXPIRED', `command expired at ${e.expiresAt}`, e.id);
  }
  if (!(e.verb in commandVerbs)) {
    throw new CommandRefusedError('UNKNOWN_VERB', `unknown verb "${e.verb}"`, e.id);
  }
  const verb = e.verb as CommandVerb;
  if (verb === 'run_action') {
    const action = (e.params as { action?: unknown } | null)?.action;
    if (typeof action !== 'string' || !(action in nodeActionArgs)) {
      throw new CommandRefusedError('UNKNOWN_ACTION', `unknown action ${JSON.stringify(action)}; known: ${NODE_ACTION_NAMES.join(', ')}`, e.id);
    }
  }
  const params = commandVerbs[verb].safeParse(e.params);
  if (!params.success) {
    const issue = params.error.issues[0];
    throw new CommandRefusedError('BAD_PARAMS', `params.${issue?.path.join('.')}: ${issue?.message}`, e.id);
  }
  return { ...e, verb, params: params.data } as VerifiedCommand;
}

/**
 * What an operator pins on an agent (TRIAD_COMMAND_KEY_SHA256): sha256 of the DER SPKI of the
 * control plane's command-signing key. `createEnrollmentToken` returns it with the secret.
 */
export function commandKeyFingerprint(key: KeyObject | string): string {
  const pub = typeof key === 'string' ? createPublicKey(key) : key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex');
}

export function publicKeyFromPem(pem: string): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('expected an ed25519 public key');
  return key;
}

export function privateKeyFromPem(pem: string): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('expected an ed25519 private key');
  return key;
}
