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

// C0 controls (ESC starts the sequences that move the cursor, retitle or clear a terminal), DEL,
// C1 controls (U+009B is a one-character CSI), and the bidirectional overrides and isolates that
// make a line read in another order than it is stored.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * User data (a line of a data file, a field name, a role) made safe to echo in an error message:
 * every control character becomes a visible escape (`\n`, `\t`, `\x1b`, `\u202e`), and text
 * longer than `maxChars` is cut with '…'. No quotes are added; the message places its own.
 */
export function quoteUserText(text: string, maxChars = 120): string {
  const cut = text.length > maxChars ? text.slice(0, maxChars) + '…' : text;
  return cut.replace(CONTROL, (c) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    const code = c.charCodeAt(0);
    return named[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
  });
}

/**
 * Whether e is a device running out of memory (the CUDA allocator's error, code
 * MINIMIND_OUT_OF_MEMORY): the batch or a --max-gpu-memory cap is too large for the card, not a bug.
 */
export function isOutOfMemory(e: unknown): e is Error {
  return e instanceof Error && (e as { code?: unknown }).code === 'MINIMIND_OUT_OF_MEMORY';
}
