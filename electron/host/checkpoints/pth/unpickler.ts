// A pickle machine that never executes code. Python's pickle calls whatever GLOBAL names; this one
// resolves names only through an allow-list given by the caller (allow_list.ts for checkpoints),
// refuses anything else by name, and builds plain JS values: None → null, bool, int → number
// (bigint past 2^53), float → number, str → string, bytes → Uint8Array, list and tuple → array,
// dict → object (keys as Python's str() of int, bool and None keys). Opcodes are those of protocols
// 2–5 that torch.save and plain data need, plus the mark-based INST/OBJ/DICT/LIST so that their
// class references meet the allow-list too; the text opcodes of protocols 0–1, extension codes,
// sets and out-of-band buffers are refused by name. Python 2's str (BINSTRING, SHORT_BINSTRING:
// CIFAR's pickles, data/cifar.ts) is read only when the caller asks, as a LegacyString. Every read
// is bounds-checked; a damaged pickle gives a PthError naming the byte.
import { fail, PthError } from './errors';

/** A name on the allow-list: what REDUCE/NEWOBJ/INST/OBJ may call, and what BUILD may apply to its objects. */
export class PickleGlobal {
  constructor(
    readonly name: string,
    readonly behaviour: {
      call?: (args: unknown[]) => unknown;
      build?: (instance: unknown, state: unknown) => void;
    } = {},
  ) {}
}

/**
 * A Python 2 str: bytes with no encoding, which Python 3 reads with pickle.load(encoding='latin1')
 * as torchvision does. A view of the pickle's buffer, not a copy: CIFAR's images are one such
 * string of 150 MB. As a dict key it is its latin-1 text.
 */
export class LegacyString {
  constructor(readonly bytes: Uint8Array) {}

  get text(): string {
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength).toString('latin1');
  }
}

/** Thrown by allow-list code for arguments it refuses; the machine adds the file and position. */
export class PickleCallError extends Error {}

export interface UnpickleOptions {
  /** The file, for messages. */
  source: string;
  /** Which pickle in the file, for messages (e.g. 'archive/data.pkl'). */
  part: string;
  globals: ReadonlyMap<string, PickleGlobal>;
  /** What the allow-list admits, for the refusal of another global. Default "a checkpoint's types". */
  allowed?: string;
  /** Resolves BINPERSID; throws PickleCallError for ids it refuses. Absent: BINPERSID is refused. */
  persistentLoad?(pid: unknown): unknown;
  /** Read Python 2 strs (BINSTRING, SHORT_BINSTRING) as LegacyString; refused otherwise. */
  legacyStrings?: boolean;
}

const dicts = new WeakSet<object>();

/** A new Python dict (SETITEM/SETITEMS accept only these). */
export function newDict(): Record<string, unknown> {
  const dict: Record<string, unknown> = {};
  dicts.add(dict);
  return dict;
}

export function isDict(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && dicts.has(value);
}

/** Sets an own property even for keys like '__proto__', so a pickle cannot reach any prototype. */
export function setKey(dict: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(dict, key, { value, enumerable: true, writable: true, configurable: true });
}

export function describe(value: unknown): string {
  if (value === null) return 'None';
  if (Array.isArray(value)) return 'a list or tuple';
  if (value instanceof PickleGlobal) return value.name;
  if (value instanceof Uint8Array) return 'bytes';
  if (value instanceof LegacyString) return 'a Python 2 str';
  if (isDict(value)) return 'a dict';
  if (typeof value !== 'object') return `a ${typeof value}`;
  const type = value.constructor?.name;
  return type && type !== 'Object' ? `a ${type}` : 'an object';
}

/** Opcodes refused by name, for a clearer message than a byte value. */
const UNSUPPORTED: Record<number, string> = {
  0x46: 'FLOAT', 0x49: 'INT', 0x4c: 'LONG', 0x50: 'PERSID', 0x53: 'STRING', 0x56: 'UNICODE', 0x67: 'GET', 0x70: 'PUT',
  0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX',
  0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

// ignoreBOM: a string that starts with U+FEFF keeps it, as Python's decoder does.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Runs one pickle starting at `start`; returns its value and the offset just past its STOP. */
export function unpickle(bytes: Buffer, start: number, options: UnpickleOptions): { value: unknown; end: number } {
  let pos = start;
  let opAt = start;
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();
  const madeBy = new WeakMap<object, PickleGlobal>();

  const bad = (problem: string): never => fail(options.source, `${problem} (pickle ${options.part}, byte ${opAt})`);
  const need = (n: number): number => {
    if (n > bytes.length - pos) bad('the pickle is truncated');
    const at = pos;
    pos += n;
    return at;
  };
  const u64 = (): number => {
    const value = bytes.readBigUInt64LE(need(8));
    return value > BigInt(bytes.length) ? bad(`a length of ${value} bytes runs past the end of the data`) : Number(value);
  };
  const text = (n: number): string => {
    const at = need(n);
    try {
      return utf8.decode(bytes.subarray(at, at + n));
    } catch {
      return bad('a string is not valid UTF-8');
    }
  };
  const line = (): string => {
    const newline = bytes.indexOf(0x0a, pos);
    if (newline < 0) bad('the pickle is truncated inside a name');
    return text(newline - pos + 1).slice(0, -1);
  };
  const pop = (): unknown => (stack.length ? stack.pop() : bad('the pickle pops an empty stack'));
  const top = (): unknown => (stack.length ? stack[stack.length - 1] : bad('the pickle reads an empty stack'));
  const popMark = (): unknown[] => {
    const items = stack;
    stack = metastack.pop() ?? bad('the pickle uses a MARK it never set');
    return items;
  };
  const resolve = (module: string, name: string): PickleGlobal =>
    options.globals.get(`${module}.${name}`) ??
      bad(`refusing global ${module}.${name}: it is not on the allow-list of ${options.allowed ?? "a checkpoint's types"}`);
  const call = (callee: unknown, args: unknown): unknown => {
    if (!(callee instanceof PickleGlobal) || !callee.behaviour.call) return bad(`${describe(callee)} cannot be called`);
    if (!Array.isArray(args)) return bad(`${callee.name} is called with ${describe(args)} instead of an argument tuple`);
    const result = guarded(() => callee.behaviour.call!(args));
    if (callee.behaviour.build && typeof result === 'object' && result !== null) madeBy.set(result, callee);
    return result;
  };
  const guarded = <T>(action: () => T): T => {
    try {
      return action();
    } catch (error) {
      if (error instanceof PthError) throw error;
      if (error instanceof PickleCallError) return bad(error.message);
      throw error;
    }
  };
  const dictKey = (key: unknown): string => {
    if (typeof key === 'string') return key;
    if (key instanceof LegacyString) return key.text;
    if (typeof key === 'number' || typeof key === 'bigint') return String(key);
    if (typeof key === 'boolean') return key ? 'True' : 'False';
    if (key === null) return 'None';
    return bad(`a dict key is ${describe(key)}; only str, int, bool and None keys are supported`);
  };
  const setItems = (target: unknown, items: unknown[]): void => {
    if (!isDict(target)) bad(`SETITEM on ${describe(target)}, not a dict`);
    if (items.length % 2) bad('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) setKey(target as Record<string, unknown>, dictKey(items[i]), items[i + 1]);
  };
  const append = (target: unknown, items: unknown[]): void => {
    if (!Array.isArray(target)) bad(`APPEND on ${describe(target)}, not a list`);
    for (const item of items) (target as unknown[]).push(item);
  };
  const signedLong = (n: number): number | bigint => {
    const at = need(n);
    if (n === 0) return 0;
    const little = bytes.subarray(at, at + n);
    let value = BigInt(`0x${Buffer.from(little).reverse().toString('hex')}`);
    if (little[n - 1]! & 0x80) value -= 1n << BigInt(8 * n);
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  };

  for (;;) {
    opAt = pos;
    const op = bytes[need(1)]!;
    switch (op) {
      case 0x80: { const version = bytes[need(1)]!; if (version > 5) bad(`pickle protocol ${version} is newer than 5`); break; }  // PROTO
      case 0x95: {  // FRAME: only a length hint; the framed bytes are read as opcodes
        if (bytes.readBigUInt64LE(need(8)) > BigInt(bytes.length - pos)) bad('a FRAME runs past the end of the data');
        break;
      }
      case 0x2e: return { value: pop(), end: pos };  // STOP
      case 0x28: metastack.push(stack); stack = []; break;  // MARK
      case 0x30: if (stack.length) stack.pop(); else popMark(); break;  // POP
      case 0x31: popMark(); break;  // POP_MARK
      case 0x32: stack.push(top()); break;  // DUP
      case 0x4e: stack.push(null); break;  // NONE
      case 0x88: stack.push(true); break;  // NEWTRUE
      case 0x89: stack.push(false); break;  // NEWFALSE
      case 0x4a: stack.push(bytes.readInt32LE(need(4))); break;  // BININT
      case 0x4b: stack.push(bytes[need(1)]!); break;  // BININT1
      case 0x4d: stack.push(bytes.readUInt16LE(need(2))); break;  // BININT2
      case 0x8a: stack.push(signedLong(bytes[need(1)]!)); break;  // LONG1
      case 0x8b: { const n = bytes.readInt32LE(need(4)); if (n < 0) bad('LONG4 with a negative length'); stack.push(signedLong(n)); break; }  // LONG4
      case 0x47: stack.push(bytes.readDoubleBE(need(8))); break;  // BINFLOAT
      case 0x58: stack.push(text(bytes.readUInt32LE(need(4)))); break;  // BINUNICODE
      case 0x8c: stack.push(text(bytes[need(1)]!)); break;  // SHORT_BINUNICODE
      case 0x8d: stack.push(text(u64())); break;  // BINUNICODE8
      case 0x42: case 0x43: case 0x8e: {  // BINBYTES, SHORT_BINBYTES, BINBYTES8
        const n = op === 0x42 ? bytes.readUInt32LE(need(4)) : op === 0x43 ? bytes[need(1)]! : u64();
        const at = need(n);
        stack.push(new Uint8Array(bytes.subarray(at, at + n)));
        break;
      }
      case 0x54: case 0x55: {  // BINSTRING, SHORT_BINSTRING
        if (!options.legacyStrings) bad(`unsupported pickle opcode ${op === 0x54 ? 'BINSTRING' : 'SHORT_BINSTRING'}`);
        const n = op === 0x54 ? bytes.readInt32LE(need(4)) : bytes[need(1)]!;
        if (n < 0) bad('BINSTRING with a negative length');
        const at = need(n);
        stack.push(new LegacyString(bytes.subarray(at, at + n)));
        break;
      }
      case 0x29: stack.push([]); break;  // EMPTY_TUPLE
      case 0x5d: stack.push([]); break;  // EMPTY_LIST
      case 0x7d: stack.push(newDict()); break;  // EMPTY_DICT
      case 0x74: case 0x6c: { const items = popMark(); stack.push(items); break; }  // TUPLE, LIST (popMark swaps `stack`)
      case 0x85: stack.push([pop()]); break;  // TUPLE1
      case 0x86: { const b = pop(); stack.push([pop(), b]); break; }  // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); stack.push([pop(), b, c]); break; }  // TUPLE3
      case 0x64: { const dict = newDict(); setItems(dict, popMark()); stack.push(dict); break; }  // DICT
      case 0x73: { const value = pop(); const key = pop(); setItems(top(), [key, value]); break; }  // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; }  // SETITEMS
      case 0x61: { const item = pop(); append(top(), [item]); break; }  // APPEND
      case 0x65: { const items = popMark(); append(top(), items); break; }  // APPENDS
      case 0x71: memo.set(bytes[need(1)]!, top()); break;  // BINPUT
      case 0x72: memo.set(bytes.readUInt32LE(need(4)), top()); break;  // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break;  // MEMOIZE
      case 0x68: case 0x6a: {  // BINGET, LONG_BINGET
        const index = op === 0x68 ? bytes[need(1)]! : bytes.readUInt32LE(need(4));
        if (!memo.has(index)) bad(`memo entry ${index} is read before it is stored`);
        stack.push(memo.get(index));
        break;
      }
      case 0x63: { const module = line(); stack.push(resolve(module, line())); break; }  // GLOBAL
      case 0x93: {  // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') bad('STACK_GLOBAL needs two strings');
        stack.push(resolve(module as string, name as string));
        break;
      }
      case 0x52: case 0x81: { const args = pop(); stack.push(call(pop(), args)); break; }  // REDUCE, NEWOBJ
      case 0x69: { const module = line(); const callee = resolve(module, line()); const args = popMark(); stack.push(call(callee, args)); break; }  // INST
      case 0x6f: { const [callee, ...args] = popMark(); stack.push(call(callee, args)); break; }  // OBJ
      case 0x62: {  // BUILD
        const state = pop();
        const instance = top();
        const maker = typeof instance === 'object' && instance !== null ? madeBy.get(instance) : undefined;
        if (!maker?.behaviour.build) bad(`BUILD on ${describe(instance)} is not supported`);
        guarded(() => maker!.behaviour.build!(instance, state));
        break;
      }
      case 0x51: {  // BINPERSID
        const pid = pop();
        if (!options.persistentLoad) bad('unsupported pickle opcode BINPERSID');
        stack.push(guarded(() => options.persistentLoad!(pid)));
        break;
      }
      default: {
        const name = UNSUPPORTED[op];
        bad(name ? `unsupported pickle opcode ${name}` : `unknown pickle opcode 0x${op.toString(16).padStart(2, '0')}`);
      }
    }
  }
}
