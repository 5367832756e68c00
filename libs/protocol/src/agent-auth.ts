import { randomBytes, sign, verify, type KeyObject } from 'node:crypto';

/**
 * Agents authenticate the Connect stream with metadata signed by their own ed25519 key.
 * The server checks the clock window and remembers nonces for that window (no replay).
 */
export const AGENT_AUTH_HEADERS = {
  nodeId: 'triad-node-id',
  timestamp: 'triad-ts',
  nonce: 'triad-nonce',
  signature: 'triad-sig',
} as const;

export const AGENT_AUTH_WINDOW_MS = 60_000;

function authMessage(nodeId: string, ts: number, nonce: string): Buffer {
  return Buffer.from(`triad-agent-connect\n${nodeId}\n${ts}\n${nonce}`, 'utf8');
}

export function signAgentAuth(
  nodeId: string,
  privateKey: KeyObject,
  now = Date.now(),
): Record<(typeof AGENT_AUTH_HEADERS)[keyof typeof AGENT_AUTH_HEADERS], string> {
  const nonce = randomBytes(16).toString('hex');
  return {
    [AGENT_AUTH_HEADERS.nodeId]: nodeId,
    [AGENT_AUTH_HEADERS.timestamp]: String(now),
    [AGENT_AUTH_HEADERS.nonce]: nonce,
    [AGENT_AUTH_HEADERS.signature]: sign(null, authMessage(nodeId, now, nonce), privateKey).toString('base64'),
  };
}

export type AgentAuthCheck =
  | { ok: true; nodeId: string; nonce: string; timestamp: number }
  | { ok: false; reason: string };

/** Verifies signature and clock window. The caller must also reject a nonce it has seen. */
export function verifyAgentAuth(
  headers: { nodeId?: string; timestamp?: string; nonce?: string; signature?: string },
  publicKey: KeyObject,
  now = Date.now(),
): AgentAuthCheck {
  const { nodeId, timestamp, nonce, signature } = headers;
  if (!nodeId || !timestamp || !nonce || !signature) return { ok: false, reason: 'missing auth metadata' };
  const ts = Number(timestamp);
  if (!Number.isSafeInteger(ts) || Math.abs(now - ts) > AGENT_AUTH_WINDOW_MS) {
    return { ok: false, reason: 'auth timestamp outside the allowed window (check the node clock)' };
  }
  if (!/^[0-9a-f]{32}$/.test(nonce)) return { ok: false, reason: 'malformed nonce' };
  let ok = false;
  try {
    ok = verify(null, authMessage(nodeId, ts, nonce), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    ok = false;
  }
  return ok ? { ok: true, nodeId, nonce, timestamp: ts } : { ok: false, reason: 'bad signature' };
}
