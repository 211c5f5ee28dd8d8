// A safe arithmetic evaluator for the calculate_math tool. MiniMind runs Python's eval() on the
// model's expression (with ^ → **, × → *, ÷ → /, − → -, full-width parentheses); we parse the
// same expression language ourselves and never execute code. Python's number semantics are kept,
// because the tool's answer is the text the model reads back: int vs float (7 / 2 = 3.5, 6 / 2 =
// 3.0, 2 ** 3 = 8), arbitrary-precision ints, floor division and modulo with the divisor's sign,
// and Python's float repr (1e+16, 1.5e-05).
//
// Grammar (Python precedence, lowest first):
//   expr   := term (('+' | '-') term)*
//   term   := factor (('*' | '/' | '//' | '%') factor)*
//   factor := ('+' | '-') factor | power
//   power  := atom ('**' factor)?            (right-associative; -2 ** 2 = -(2 ** 2))
//   atom   := number | name | name '(' args ')' | '(' expr ')'
// Names: math.pi, math.e, math.tau, math.inf and pi, e; functions math.sqrt/sin/cos/tan/asin/
// acos/atan/exp/log/log10/log2/floor/ceil/fabs/factorial/pow and the builtins abs, round, min,
// max, pow, int, float. Anything else is an error, so nothing but arithmetic can run.

export type PyNum = { kind: 'int'; v: bigint } | { kind: 'float'; v: number };

export class ExpressionError extends Error {}

/** Results past this many bits are refused (Python would try; the tool's 1 s timeout stops it). */
const MAX_INT_BITS = 4096;

const int = (v: bigint): PyNum => ({ kind: 'int', v });
const float = (v: number): PyNum => ({ kind: 'float', v });
const toF = (x: PyNum): number => (x.kind === 'int' ? Number(x.v) : x.v);

function checkInt(v: bigint): PyNum {
  const a = v < 0n ? -v : v;
  if (a.toString(16).length * 4 > MAX_INT_BITS) throw new ExpressionError('result too large');
  return int(v);
}

/** Results of math functions and **, where Python raises instead of returning nan / inf. */
function checkFloat(v: number): PyNum {
  if (Number.isNaN(v)) throw new ExpressionError('math domain error');
  if (!Number.isFinite(v)) throw new ExpressionError('math range error (result too large)');
  return float(v);
}

/** Python's floor division and modulo on ints (results take the divisor's sign). */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

function binary(op: string, a: PyNum, b: PyNum): PyNum {
  if (a.kind === 'int' && b.kind === 'int') {
    switch (op) {
      case '+': return checkInt(a.v + b.v);
      case '-': return checkInt(a.v - b.v);
      case '*': return checkInt(a.v * b.v);
      case '/':
        if (b.v === 0n) throw new ExpressionError('division by zero');
        return checkFloat(Number(a.v) / Number(b.v));
      case '//':
        if (b.v === 0n) throw new ExpressionError('integer division or modulo by zero');
        return int(floorDiv(a.v, b.v));
      case '%':
        if (b.v === 0n) throw new ExpressionError('integer division or modulo by zero');
        return int(a.v - floorDiv(a.v, b.v) * b.v);
      case '**':
        if (b.v < 0n) {
          if (a.v === 0n) throw new ExpressionError('0.0 cannot be raised to a negative power');
          if (-b.v > BigInt(MAX_INT_BITS)) return checkFloat(Math.pow(Number(a.v), Number(b.v)));
          // 1 / a^|b| by one correctly rounded division (Math.pow(10, -5) is 1 ulp off Python's 1e-05)
          return checkFloat(1 / Number(a.v ** -b.v));
        }
        if (a.v !== 0n && a.v !== 1n && a.v !== -1n && b.v > BigInt(MAX_INT_BITS)) throw new ExpressionError('result too large');
        return checkInt(a.v ** b.v);
    }
  }
  const x = toF(a);
  const y = toF(b);
  // Python float arithmetic overflows to inf (and inf − inf is nan) without raising; ** raises.
  switch (op) {
    case '+': return float(x + y);
    case '-': return float(x - y);
    case '*': return float(x * y);
    case '/':
      if (y === 0) throw new ExpressionError('float division by zero');
      return float(x / y);
    case '//':
      if (y === 0) throw new ExpressionError('float floor division by zero');
      return checkFloat(Math.floor(x / y));
    case '%': {
      if (y === 0) throw new ExpressionError('float modulo');
      const r = x % y;
      return float(r !== 0 && (r < 0) !== (y < 0) ? r + y : r);
    }
    case '**':
      if (x === 0 && y < 0) throw new ExpressionError('0.0 cannot be raised to a negative power');
      if (x < 0 && !Number.isInteger(y)) throw new ExpressionError('complex result (negative number to a fractional power)');
      return checkFloat(Math.pow(x, y));
  }
  throw new ExpressionError(`unknown operator ${op}`);
}

const CONSTANTS: Record<string, number> = { pi: Math.PI, e: Math.E, tau: 2 * Math.PI, inf: Infinity };

function unaryMath(f: (x: number) => number, domain?: (x: number) => boolean) {
  return (args: PyNum[]): PyNum => {
    if (args.length !== 1) throw new ExpressionError(`expected 1 argument, got ${args.length}`);
    const x = toF(args[0]);
    if (domain && !domain(x)) throw new ExpressionError('math domain error');
    return checkFloat(f(x));
  };
}

function roundHalfEven(x: number, digits: number): number {
  const m = Math.pow(10, digits);
  const y = x * m;
  const r = Math.round(y);
  const tie = Math.abs(y - Math.trunc(y)) === 0.5;
  return (tie && r % 2 !== 0 ? r - 1 : r) / m;
}

const FUNCTIONS: Record<string, (args: PyNum[]) => PyNum> = {
  sqrt: unaryMath(Math.sqrt, (x) => x >= 0),
  sin: unaryMath(Math.sin), cos: unaryMath(Math.cos), tan: unaryMath(Math.tan),
  asin: unaryMath(Math.asin, (x) => x >= -1 && x <= 1), acos: unaryMath(Math.acos, (x) => x >= -1 && x <= 1), atan: unaryMath(Math.atan),
  exp: unaryMath(Math.exp), log10: unaryMath(Math.log10, (x) => x > 0), log2: unaryMath(Math.log2, (x) => x > 0),
  fabs: unaryMath(Math.abs),
  log: (args) => {
    if (args.length < 1 || args.length > 2) throw new ExpressionError(`log expected 1 or 2 arguments, got ${args.length}`);
    const x = toF(args[0]);
    if (!(x > 0)) throw new ExpressionError('math domain error');
    if (args.length === 1) return checkFloat(Math.log(x));
    const b = toF(args[1]);
    if (!(b > 0) || b === 1) throw new ExpressionError('math domain error');
    return checkFloat(Math.log(x) / Math.log(b));
  },
  floor: (args) => (args[0]?.kind === 'int' ? args[0] : int(BigInt(Math.floor(toF(one(args)))))),
  ceil: (args) => (args[0]?.kind === 'int' ? args[0] : int(BigInt(Math.ceil(toF(one(args)))))),
  factorial: (args) => {
    const x = one(args);
    if (x.kind !== 'int' || x.v < 0n) throw new ExpressionError('factorial() only accepts non-negative integers');
    if (x.v > 1000n) throw new ExpressionError('result too large');
    let r = 1n;
    for (let i = 2n; i <= x.v; i++) r *= i;
    return checkInt(r);
  },
  pow: (args) => {
    if (args.length !== 2) throw new ExpressionError(`pow expected 2 arguments, got ${args.length}`);
    return binary('**', args[0], args[1]);
  },
  abs: (args) => {
    const x = one(args);
    return x.kind === 'int' ? int(x.v < 0n ? -x.v : x.v) : float(Math.abs(x.v));
  },
  round: (args) => {
    if (args.length < 1 || args.length > 2) throw new ExpressionError(`round expected 1 or 2 arguments, got ${args.length}`);
    const x = args[0];
    if (args.length === 1) return x.kind === 'int' ? x : int(BigInt(roundHalfEven(x.v, 0)));
    const d = args[1];
    if (d.kind !== 'int') throw new ExpressionError("'float' object cannot be interpreted as an integer");
    return x.kind === 'int' && d.v >= 0n ? x : float(roundHalfEven(toF(x), Number(d.v)));
  },
  min: (args) => extreme(args, -1),
  max: (args) => extreme(args, 1),
  int: (args) => {
    const x = one(args);
    return x.kind === 'int' ? x : int(BigInt(Math.trunc(x.v)));
  },
  float: (args) => float(toF(one(args))),
};

/** math.floor etc. live under `math.`; abs/round/min/max/pow/int/float are Python builtins. */
const MATH_ONLY = new Set(['sqrt', 'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'exp', 'log', 'log10', 'log2', 'fabs', 'floor', 'ceil', 'factorial', 'pow']);
const BUILTINS = new Set(['abs', 'round', 'min', 'max', 'pow', 'int', 'float', 'sqrt']);

function one(args: PyNum[]): PyNum {
  if (args.length !== 1) throw new ExpressionError(`expected 1 argument, got ${args.length}`);
  return args[0];
}

function extreme(args: PyNum[], sign: number): PyNum {
  if (args.length === 0) throw new ExpressionError('expected at least 1 argument, got 0');
  let best = args[0];
  for (const a of args.slice(1)) if ((toF(a) - toF(best)) * sign > 0) best = a;
  return best;
}

type Token = { t: 'num'; raw: string } | { t: 'name'; v: string } | { t: 'op'; v: string };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) { i++; continue; }
    const num = /^(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)([eE][+-]?\d+)?/.exec(src.slice(i));
    if (num) { out.push({ t: 'num', raw: num[0] }); i += num[0].length; continue; }
    const name = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?/.exec(src.slice(i));
    if (name) { out.push({ t: 'name', v: name[0] }); i += name[0].length; continue; }
    const two = src.slice(i, i + 2);
    if (two === '**' || two === '//') { out.push({ t: 'op', v: two }); i += 2; continue; }
    if ('+-*/%(),'.includes(c)) { out.push({ t: 'op', v: c }); i++; continue; }
    throw new ExpressionError(`invalid character '${c}' at position ${i}`);
  }
  return out;
}

function parseNumber(raw: string): PyNum {
  const s = raw.replace(/_/g, '');
  if (/^\d+$/.test(s)) return int(BigInt(s));
  return float(Number(s));
}

class Parser {
  private i = 0;
  constructor(private readonly toks: Token[]) {}
  parse(): PyNum {
    if (this.toks.length === 0) throw new ExpressionError('empty expression');
    const v = this.expr();
    if (this.i < this.toks.length) throw new ExpressionError(`unexpected '${this.show(this.toks[this.i])}'`);
    return v;
  }
  private show(t: Token): string {
    return t.t === 'num' ? t.raw : t.v;
  }
  private peekOp(...ops: string[]): string | null {
    const t = this.toks[this.i];
    return t && t.t === 'op' && ops.includes(t.v) ? t.v : null;
  }
  private expect(op: string): void {
    if (!this.peekOp(op)) throw new ExpressionError(`expected '${op}'`);
    this.i++;
  }
  private expr(): PyNum {
    let v = this.term();
    for (let op = this.peekOp('+', '-'); op; op = this.peekOp('+', '-')) {
      this.i++;
      v = binary(op, v, this.term());
    }
    return v;
  }
  private term(): PyNum {
    let v = this.factor();
    for (let op = this.peekOp('*', '/', '//', '%'); op; op = this.peekOp('*', '/', '//', '%')) {
      this.i++;
      v = binary(op, v, this.factor());
    }
    return v;
  }
  private factor(): PyNum {
    const op = this.peekOp('+', '-');
    if (op) {
      this.i++;
      const v = this.factor();
      if (op === '+') return v;
      return v.kind === 'int' ? int(-v.v) : float(-v.v);
    }
    return this.power();
  }
  private power(): PyNum {
    const base = this.atom();
    if (this.peekOp('**')) {
      this.i++;
      return binary('**', base, this.factor());
    }
    return base;
  }
  private atom(): PyNum {
    const t = this.toks[this.i];
    if (!t) throw new ExpressionError('unexpected end of expression');
    if (t.t === 'num') {
      this.i++;
      return parseNumber(t.raw);
    }
    if (t.t === 'op' && t.v === '(') {
      this.i++;
      const v = this.expr();
      this.expect(')');
      return v;
    }
    if (t.t === 'name') {
      this.i++;
      const isMath = t.v.startsWith('math.');
      const name = isMath ? t.v.slice(5) : t.v;
      if (this.peekOp('(')) {
        this.i++;
        const args: PyNum[] = [];
        if (!this.peekOp(')')) {
          args.push(this.expr());
          while (this.peekOp(',')) {
            this.i++;
            args.push(this.expr());
          }
        }
        this.expect(')');
        const known = isMath ? MATH_ONLY.has(name) : BUILTINS.has(name);
        if (!known) throw new ExpressionError(`name '${t.v}' is not defined`);
        return FUNCTIONS[name](args);
      }
      if (Object.hasOwn(CONSTANTS, name) && (isMath || name === 'pi' || name === 'e')) return float(CONSTANTS[name]);
      throw new ExpressionError(`name '${t.v}' is not defined`);
    }
    throw new ExpressionError(`unexpected '${this.show(t)}'`);
  }
}

/** MiniMind's rewrites of the model's notation before eval (train_agent.py and eval_toolcall.py). */
export function normalizeExpression(expr: string): string {
  return expr.replace(/\^/g, '**').replace(/×/g, '*').replace(/÷/g, '/').replace(/−/g, '-').replace(/²/g, '**2').replace(/³/g, '**3').replace(/（/g, '(').replace(/）/g, ')');
}

/** Evaluates an arithmetic expression with Python semantics; throws ExpressionError. */
export function evaluate(expr: string): PyNum {
  return new Parser(tokenize(normalizeExpression(expr))).parse();
}

/** Python's str() of a number: ints in full, floats as repr (shortest round-trip, 1e+16 style). */
export function pyStr(x: PyNum): string {
  return x.kind === 'int' ? x.v.toString() : pyFloatRepr(x.v);
}

export function pyFloatRepr(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  // toExponential() without digits gives the shortest round-trip digits, as Python's repr does.
  const [mant, expStr] = v.toExponential().split('e');
  const exp = Number(expStr);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  let body: string;
  if (exp >= 16 || exp < -4) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    body = `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  } else if (exp < 0) {
    body = `0.${'0'.repeat(-exp - 1)}${digits}`;
  } else if (digits.length <= exp + 1) {
    body = `${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  } else {
    body = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }
  return neg ? `-${body}` : body;
}
