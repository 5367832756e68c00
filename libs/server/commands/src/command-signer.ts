import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { commandKeyFingerprint, privateKeyFromPem, signCommand, type CommandEnvelope, type SignedCommand } from '@triad/protocol';

/**
 * The one place that holds the command-signing key (COMMAND_SIGNING_KEY_FILE, ed25519 PKCS#8
 * PEM). Enrollment hands `publicKeyPem` to agents; the reconciler signs with `sign()`.
 */
export class CommandSigner {
  readonly publicKey: KeyObject;
  readonly publicKeyPem: string;
  /** Key id: first 16 hex digits of the SHA-256 of the public key (SPKI DER), so a rotation is visible on the wire. */
  readonly kid: string;

  constructor(private readonly privateKey: KeyObject) {
    this.publicKey = createPublicKey(privateKey);
    this.publicKeyPem = this.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    this.kid = commandKeyFingerprint(this.publicKey).slice(0, 16);
  }

  static fromPem(pem: string): CommandSigner {
    return new CommandSigner(privateKeyFromPem(pem));
  }

  static fromFile(path: string): CommandSigner {
    let pem: string;
    try {
      pem = readFileSync(path, 'utf8');
    } catch (e) {
      throw new Error(`cannot read the command signing key ${path}: ${(e as Error).message}`);
    }
    return CommandSigner.fromPem(pem);
  }

  sign(envelope: CommandEnvelope): SignedCommand {
    return signCommand(envelope, this.privateKey, this.kid);
  }
}
