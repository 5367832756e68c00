import { execFile } from 'node:child_process';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program with an argument array (never a shell string: nothing from a command can become
 * shell syntax). Resolves with the exit code instead of throwing, so callers can report the
 * tool's own message.
 */
export function runFile(file: string, args: readonly string[], timeoutMs = 30_000): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') {
        // Not an exit status: the program could not be started (ENOENT, EACCES) or was killed.
        if (error.killed || error.signal) {
          resolve({ code: -1, stdout, stderr: `${stderr}\n${file} killed by ${error.signal ?? 'timeout'}` });
          return;
        }
        reject(error);
        return;
      }
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
  });
}
