/** An error the agent cannot recover from by retrying; main exits with `exitCode`. */
export class AgentFatalError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'AgentFatalError';
  }
}

/** Exit code when the control plane refuses enrollment (or there is no token to enroll with). */
export const EXIT_ENROLLMENT_REFUSED = 2;
