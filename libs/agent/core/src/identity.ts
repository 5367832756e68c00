import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { createUser } from '@nats-io/nkeys';
import { privateKeyFromPem, publicKeyFromPem } from '@triad/protocol';
import { z } from 'zod';
import { readFileIfExists, writeFileAtomic } from './atomic-file';

/**
 * The node's identity in `<stateDir>/identity.json` (mode 0600). Keys are generated and saved
 * BEFORE enrolling, so a crash between Enroll and saving the answer never leaves the control
 * plane holding a public key whose private half is lost.
 */
const keysSchema = z.object({
  privateKeyPem: z.string(),
  publicKeyPem: z.string(),
  natsSeed: z.string(),
  natsPublicKey: z.string(),
});
const enrollmentSchema = z.object({
  nodeId: z.string(),
  tenantId: z.string(),
  clusterId: z.string(),
  nodeName: z.string(),
  commandSigningPublicKeyPem: z.string(),
  nats: z.object({
    servers: z.array(z.string()),
    userJwt: z.string(),
    stream: z.string(),
    consumer: z.string(),
    subject: z.string(),
    inboxPrefix: z.string(),
  }),
  heartbeatIntervalMs: z.number().int().nonnegative(),
  enrolledAt: z.string(),
});
const identityFileSchema = z.object({ v: z.literal(1), keys: keysSchema, enrollment: enrollmentSchema.optional() });

export type AgentKeys = z.infer<typeof keysSchema>;
export type Enrollment = z.infer<typeof enrollmentSchema>;

/** An enrolled node: what every other part of the agent needs. */
export interface AgentIdentity {
  keys: AgentKeys;
  enrollment: Enrollment;
  privateKey: KeyObject;
  commandPublicKey: KeyObject;
}

export function generateAgentKeys(): AgentKeys {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const nats = createUser();
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    natsSeed: new TextDecoder().decode(nats.getSeed()),
    natsPublicKey: nats.getPublicKey(),
  };
}

export class IdentityStore {
  readonly path: string;

  constructor(stateDir: string) {
    this.path = join(stateDir, 'identity.json');
  }

  async load(): Promise<{ keys: AgentKeys; enrollment?: Enrollment } | undefined> {
    const text = await readFileIfExists(this.path);
    if (text === undefined) return undefined;
    const parsed = identityFileSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`${this.path} is not a valid agent identity: ${parsed.error.issues[0]?.message}`);
    return parsed.data;
  }

  async save(keys: AgentKeys, enrollment?: Enrollment): Promise<void> {
    await writeFileAtomic(this.path, JSON.stringify({ v: 1, keys, enrollment }, null, 2), 0o600);
  }
}

export function toAgentIdentity(keys: AgentKeys, enrollment: Enrollment): AgentIdentity {
  return {
    keys,
    enrollment,
    privateKey: privateKeyFromPem(keys.privateKeyPem),
    commandPublicKey: publicKeyFromPem(enrollment.commandSigningPublicKeyPem),
  };
}
