import { chown, stat } from 'node:fs/promises';
import { readFileIfExists, writeFileAtomic } from '@triad/agent-core';

/**
 * Reads a secret the agent was given as a file (trailing newline dropped). Secrets never travel in
 * an argument, an environment variable or a log field; errors name the file, never the content.
 */
export async function readSecretFile(path: string): Promise<string> {
  const text = await readFileIfExists(path);
  if (text === undefined) throw new Error(`secret file ${path} does not exist`);
  const secret = text.replace(/\r?\n$/, '');
  if (secret === '' || /[\r\n]/.test(secret)) throw new Error(`secret file ${path} must hold one non-empty line`);
  return secret;
}

/**
 * Installs a file holding a secret: atomically, with `mode`, owned like `ownerOf` (the daemon's
 * directory) when given. Unchanged content is not rewritten. Resolves whether it wrote.
 */
export async function installSecretFile(path: string, content: string, mode: number, ownerOf?: string): Promise<boolean> {
  if ((await readFileIfExists(path)) === content) return false;
  await writeFileAtomic(path, content, mode);
  if (ownerOf) {
    const owner = await stat(ownerOf);
    await chown(path, owner.uid, owner.gid);
  }
  return true;
}
