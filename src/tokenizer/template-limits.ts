// Renders a parsed chat template within fixed limits, so a hostile tokenizer_config.json cannot
// exhaust memory or hang the process: `{% for i in range(1000000000) %}` or nested loops that
// build a string of 10^10 characters end in an error, not in V8's fatal out-of-memory.
// `range` is capped as Python jinja2's sandbox caps it (MAX_RANGE = 100000: a longer range is an
// error). Everything else is bounded by a budget per render, charged on every evaluation of the
// interpreter: one step per evaluation (and per element of a range), and the length of every
// string or list an evaluation returns. Output strings are only ever built from evaluated parts,
// so the characters charged bound what a render can hold. MiniMind's templates take 18 to 70 steps
// per message (v1, minimind2, head), so the step limit still renders 14,000-message conversations.
import { Environment, Interpreter, Template } from '@huggingface/jinja';

/** jinja2.sandbox.MAX_RANGE: the longest range a template may build. */
export const MAX_RANGE = 100_000;
/** Evaluations (and range elements) one render may take. */
export const MAX_STEPS = 1_000_000;
/** Characters (and list elements) all evaluations of one render may return, together. */
export const MAX_CHARS = 64 * 1024 * 1024;

/** Why a render stopped: the caller names the template's file. */
export class TemplateLimitError extends Error {}

type Node = { type: string } | undefined;
type Value = { type: string; value: unknown };
type Evaluate = (node: Node, scope: Environment) => Value;

/** Renders `template` with `context` as Template.render does, within the limits above. */
export function renderWithinLimits(template: Template, context: Record<string, unknown>): string {
  let steps = 0;
  let chars = 0;
  const charge = (n: number, m: number): void => {
    steps += n;
    chars += m;
    if (steps > MAX_STEPS) throw new TemplateLimitError(`it ran past ${MAX_STEPS} steps (a loop that does not end in time)`);
    if (chars > MAX_CHARS) throw new TemplateLimitError(`its text grew past ${MAX_CHARS} characters`);
  };
  const env = new Environment();
  // @huggingface/jinja's own globals (setupGlobals), with a bounded range.
  const globals: Record<string, unknown> = {
    false: false, true: true, none: null, False: false, True: true, None: null,
    raise_exception: (message: string) => {
      throw new Error(message);
    },
    range: (...args: number[]) => {
      const r = boundedRange(args);
      charge(r.length, r.length);
      return r;
    },
    strftime_now: (format: string) => new Template('{{ strftime_now(f) }}').render({ f: format }),
  };
  for (const [k, v] of Object.entries({ ...globals, ...context })) env.set(k, v);
  const interpreter = new Interpreter(env);
  // The interpreter evaluates every node through this one method (`evaluate`, private in the
  // library's types), so wrapping it on the instance meters the whole render.
  const self = interpreter as unknown as { evaluate: Evaluate };
  const evaluate = self.evaluate;
  if (typeof evaluate !== 'function') throw new Error('@huggingface/jinja changed: Interpreter.evaluate is gone (template-limits.ts needs it)');
  self.evaluate = (node, scope) => {
    charge(1, 0);
    const v = evaluate.call(interpreter, node, scope);
    if (typeof v.value === 'string' || Array.isArray(v.value)) charge(0, v.value.length);
    return v;
  };
  return interpreter.run(template.parsed).value as string;
}

/** Python's range(stop) / range(start, stop[, step]) on integers, refused past MAX_RANGE elements. */
function boundedRange(args: number[]): number[] {
  if (args.length < 1 || args.length > 3 || !args.every(Number.isInteger)) throw new Error(`range() takes 1 to 3 integers, got (${args.join(', ')})`);
  const [start, stop, step] = args.length === 1 ? [0, args[0]!, 1] : [args[0]!, args[1]!, args[2] ?? 1];
  if (step === 0) throw new Error('range() step must not be zero');
  const length = Math.max(0, Math.ceil((stop - start) / step));
  if (length > MAX_RANGE) throw new TemplateLimitError(`range(${args.join(', ')}) has ${length} elements; templates may loop at most ${MAX_RANGE} times (as in jinja2's sandbox)`);
  return Array.from({ length }, (_, i) => start + i * step);
}
