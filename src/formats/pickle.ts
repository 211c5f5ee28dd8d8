// A minimal, safe pickle VM: enough opcodes (protocols 2-5) to read what torch.save writes for
// state dicts and training checkpoints. It never imports or runs anything: a GLOBAL must be in
// the caller's allow-list (`globals`), else unpickling stops with an error naming it.
//
// Python values map to JS: None -> null, bool -> boolean, int -> number (bigint beyond 2^53),
// float -> number, str -> string, bytes -> Uint8Array, list/tuple -> Array, dict -> Map.

/** A Python callable or class the caller allows: `call` for REDUCE, `newobj` for NEWOBJ. */
export interface PyGlobal {
  name: string;
  call?: (args: unknown[]) => unknown;
  newobj?: (args: unknown[]) => unknown;
}

export interface UnpickleOptions {
  /** Allowed globals, keyed "module.name" (e.g. "collections.OrderedDict"). */
  globals: Record<string, PyGlobal>;
  /** BINPERSID handler (torch: storages). Without it a persistent id is an error. */
  persistentLoad?: (pid: unknown) => unknown;
  /** For error messages. */
  file?: string;
}

/** Instances whose class has no BUILD support: kept as {__class__, args, state} for the caller to inspect. */
export interface PyObject {
  __class__: string;
  args: unknown[];
  state?: unknown;
}

const MARK = Symbol('mark');

export function unpickle(buf: Uint8Array, opts: UnpickleOptions): unknown {
  const file = opts.file ?? '<pickle>';
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dec = new TextDecoder('utf-8');
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;

  const fail = (msg: string): never => {
    throw new Error(`${file}: pickle: ${msg} (at byte ${pos})`);
  };
  const need = (n: number): void => {
    if (pos + n > buf.byteLength) fail('truncated data');
  };
  const u8 = (): number => { need(1); return buf[pos++]; };
  const u16 = (): number => { need(2); const v = dv.getUint16(pos, true); pos += 2; return v; };
  const u32 = (): number => { need(4); const v = dv.getUint32(pos, true); pos += 4; return v; };
  const i32 = (): number => { need(4); const v = dv.getInt32(pos, true); pos += 4; return v; };
  const u64 = (): number => {
    need(8);
    const v = dv.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('64-bit length too large');
    return Number(v);
  };
  const bytes = (n: number): Uint8Array => { need(n); const b = buf.subarray(pos, pos + n); pos += n; return b; };
  const line = (): string => {
    const end = buf.indexOf(0x0a, pos);
    if (end < 0) fail('unterminated text line');
    const s = dec.decode(buf.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0) fail('stack underflow');
    const v = stack.pop();
    if (v === MARK) fail('unexpected MARK');
    return v;
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) fail('MARK not found');
    const items = stack.slice(i + 1);
    stack.length = i;
    return items;
  };
  const longFromBytes = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length); // two's complement
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const findGlobal = (module: string, name: string): PyGlobal => {
    const key = `${module}.${name}`;
    const g = opts.globals[key];
    if (!g) fail(`refusing to load global "${key}": not in the allow-list of a PyTorch state dict (the file may hold arbitrary Python objects; only tensors, dicts, lists and numbers are supported)`);
    return g;
  };
  const asGlobal = (g: unknown, what: string): PyGlobal => {
    if (typeof g !== 'object' || g === null || typeof (g as PyGlobal).name !== 'string' || !('call' in g || 'newobj' in g)) {
      fail(`${what} on something that is not an allowed callable`);
    }
    return g as PyGlobal;
  };
  const setItem = (d: unknown, k: unknown, v: unknown): void => {
    if (d instanceof Map) d.set(k, v);
    else if (typeof d === 'object' && d !== null && '__class__' in d) {
      // Dict-like objects (e.g. a dict subclass kept as PyObject): store items aside.
      const o = d as PyObject & { items?: Map<unknown, unknown> };
      (o.items ??= new Map()).set(k, v);
    } else fail('SETITEM on a non-dict');
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: u64(); break; // FRAME: framing is only a read-ahead hint
      case 0x2e: // STOP
        if (stack.length !== 1) fail(`STOP with ${stack.length} items on the stack`);
        return stack[0];
      case 0x28: stack.push(MARK); break; // MARK
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: { const n = u8(); stack.push(longFromBytes(bytes(n))); break; } // LONG1
      case 0x8b: { const n = i32(); if (n < 0) fail('negative LONG4 size'); stack.push(longFromBytes(bytes(n))); break; } // LONG4
      case 0x49: { // INT (protocol 0): "01"/"00" are bools
        const s = line();
        stack.push(s === '01' ? true : s === '00' ? false : Number.parseInt(s, 10));
        break;
      }
      case 0x4c: stack.push(Number.parseInt(line().replace(/L$/, ''), 10)); break; // LONG (protocol 0)
      case 0x47: { need(8); stack.push(dv.getFloat64(pos, false)); pos += 8; break; } // BINFLOAT (big-endian)
      case 0x46: stack.push(Number.parseFloat(line())); break; // FLOAT (protocol 0)
      case 0x58: stack.push(dec.decode(bytes(u32()))); break; // BINUNICODE
      case 0x8c: stack.push(dec.decode(bytes(u8()))); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(dec.decode(bytes(u64()))); break; // BINUNICODE8
      case 0x54: { const n = i32(); if (n < 0) fail('negative BINSTRING size'); stack.push(dec.decode(bytes(n))); break; } // BINSTRING (py2 str)
      case 0x55: stack.push(dec.decode(bytes(u8()))); break; // SHORT_BINSTRING
      case 0x42: stack.push(Uint8Array.from(bytes(u32()))); break; // BINBYTES
      case 0x43: stack.push(Uint8Array.from(bytes(u8()))); break; // SHORT_BINBYTES
      case 0x8e: stack.push(Uint8Array.from(bytes(u64()))); break; // BINBYTES8
      case 0x96: stack.push(Uint8Array.from(bytes(u64()))); break; // BYTEARRAY8
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x8f: stack.push(new Set()); break; // EMPTY_SET
      case 0x90: { // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) fail('ADDITEMS on a non-set');
        for (const it of items) (s as Set<unknown>).add(it);
        break;
      }
      case 0x91: stack.push(new Set(popMark())); break; // FROZENSET
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x85: stack.push([pop()]); break; // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); stack.push([a, b]); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push([a, b, c]); break; } // TUPLE3
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x64: { // DICT
        const items = popMark();
        const d = new Map();
        for (let i = 0; i + 1 < items.length; i += 2) d.set(items[i], items[i + 1]);
        stack.push(d);
        break;
      }
      case 0x61: { // APPEND
        const v = pop();
        const l = top();
        if (!Array.isArray(l)) fail('APPEND on a non-list');
        (l as unknown[]).push(v);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        const l = top();
        if (!Array.isArray(l)) fail('APPENDS on a non-list');
        (l as unknown[]).push(...items);
        break;
      }
      case 0x73: { const v = pop(); const k = pop(); setItem(top(), k, v); break; } // SETITEM
      case 0x75: { // SETITEMS
        const items = popMark();
        const d = top();
        for (let i = 0; i + 1 < items.length; i += 2) setItem(d, items[i], items[i + 1]);
        break;
      }
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x70: memo.set(Number.parseInt(line(), 10), top()); break; // PUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: case 0x67: { // BINGET, LONG_BINGET, GET
        const i = op === 0x68 ? u8() : op === 0x6a ? u32() : Number.parseInt(line(), 10);
        if (!memo.has(i)) fail(`memo key ${i} not found`);
        stack.push(memo.get(i));
        break;
      }
      case 0x63: { // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        stack.push(findGlobal(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(findGlobal(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const g = asGlobal(pop(), 'REDUCE');
        if (!Array.isArray(args)) fail(`REDUCE of ${g.name}: arguments are not a tuple`);
        if (!g.call) fail(`REDUCE: ${g.name} is not callable here`);
        stack.push(g.call!(args as unknown[]));
        break;
      }
      case 0x81: { // NEWOBJ
        const args = pop();
        const g = asGlobal(pop(), 'NEWOBJ');
        if (!g.newobj) fail(`NEWOBJ: ${g.name} cannot be instantiated here`);
        stack.push(g.newobj!(args as unknown[]));
        break;
      }
      case 0x62: { // BUILD: obj.__setstate__(state) / obj.__dict__.update(state)
        const state = pop();
        const obj = top();
        if (obj instanceof Map) {
          // OrderedDict pickles its items via SETITEMS; a BUILD state would be its __dict__ (usually empty).
          break;
        }
        if (typeof obj === 'object' && obj !== null && '__class__' in obj) {
          (obj as PyObject).state = state;
          break;
        }
        fail('BUILD on an object that takes no state');
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!opts.persistentLoad) fail('persistent id without a persistent_load handler');
        stack.push(opts.persistentLoad!(pid));
        break;
      }
      default:
        fail(`unsupported opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
}
