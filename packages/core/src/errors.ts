/**
 * An error the user can fix (an unknown id, a bad flag, a malformed file). The CLI prints its message
 * alone and exits with code 2; anything else is a bug and exits 1 with a stack.
 */
export class UserError extends Error {
  readonly exitCode = 2;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UserError';
  }
}

export function isUserError(err: unknown): err is UserError {
  return err instanceof Error && (err as { exitCode?: unknown }).exitCode === 2;
}
