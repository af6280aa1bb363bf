// What a caller of the admin API hears when a call goes wrong: the daemon
// answered no (ApiError, with the code it gave), or it could not be reached
// (DaemonUnreachable). Apart from the client so that what reports them (the
// CLI's error line, loaded by every command) does not load the client itself.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export class DaemonUnreachable extends Error {
  constructor(
    readonly address: string,
    cause: unknown,
  ) {
    super(`the Ferry daemon at ${address} could not be reached (is 'ferry serve' running?): ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'DaemonUnreachable';
  }
}
