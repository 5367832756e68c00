import { execFile } from 'node:child_process';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program with an argument array (never a shell string: nothing from a command can become
 * shell syntax). Resolves with the exit code instead of throwing, so callers can report the
 * tool's own message. `env` is added to the agent's environment (e.g. `CIB_file`); `input` is
 * written to the program's stdin (closed right away when absent).
 */
export function runFile(
  file: string,
  args: readonly string[],
  timeoutMs = 30_000,
  opts: { env?: Record<string, string>; input?: string } = {},
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    // The tool inherits the agent's environment plus these variables (not a config read).
    const env = opts.env ? { ...process.env, ...opts.env } : undefined; // eslint-disable-line no-restricted-properties
    const child = execFile(file, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8', env }, (error, stdout, stderr) => {
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
    // Tools that read a document on stdin (`cibadmin --xml-pipe`); a tool exiting early must not crash us.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(opts.input);
  });
}
