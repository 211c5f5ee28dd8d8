// The one error type for problems in what the caller gave us (a missing file, a bad option, data
// that does not parse), as opposed to bugs. The library throws it with a message that names the
// problem and the fix; the `minimind` command prints that message as one line and exits 2, and a
// program using the library can tell it apart from a crash with `instanceof UserError`.
export class UserError extends Error {
  override name = 'UserError';
}

/** Runs fn and turns any error it throws into a UserError with the same message (for calls whose
 *  every failure is caused by the caller's input, such as parsing a file the caller named). */
export function asUserError<T>(fn: () => T, prefix = ''): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(prefix + (e as Error).message.replace(/:?\n\s*/g, '; '));
  }
}
