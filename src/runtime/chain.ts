// The native call chain: a list of libc calls that a cloned child runs without ever
// returning to JavaScript (V8's heap is not mapped in a forked child; see
// ../shared/design/process-creation.md).
//
// Each call becomes one ucontext_t prepared with getcontext + makecontext(ctx, function,
// argc, args...) on its own stack, whose uc_link is the next call's context; the child
// starts with setcontext(first) and walks the list natively. All the memory (contexts,
// stacks, strings, argv arrays, structs) is one malloc'd block that the parent builds and
// frees right after clone(): the child keeps its own copy-on-write copy.
import koffi from 'koffi';
import { fn } from '../../bindings/libc.js';
import { symbolAddress } from '../../bindings/syscalls.js';
import { ARCH, SYS } from '../../bindings/constants.js';
import { BerthError } from '../errors.js';
import type { Arg, Call } from './steps.js';

/**
 * Calls the executor itself adds around the planned steps: `memset` clears errno before
 * a step, `signal` restores the dispositions Node ignores (SIGPIPE would otherwise stay
 * ignored across execve).
 */
export type ChainCall = Call | 'memset' | 'signal';

/** A place in the chain's memory; its address is known once the chain is built. */
export class Ref {
  constructor(
    readonly offset: number,
    readonly size: number,
  ) {}
}

/** An argument as the chain takes it: a step Arg, a Ref into the chain, or a raw address. */
export type NativeArg = Arg | Ref | { address: bigint };

// glibc's ucontext_t (x86_64 and aarch64): uc_link at 8, uc_stack {ss_sp, ss_flags,
// ss_size} at 16/24/32; the signal mask sits after the machine context on x86_64 and
// before it on aarch64. sizeof is 968 (x86_64) / ~4.5 KiB (aarch64): 8 KiB covers both.
const UC_LINK = 8;
const UC_STACK_SP = 16;
const UC_STACK_FLAGS = 24;
const UC_STACK_SIZE = 32;
const UC_SIGMASK = ARCH === 'x64' ? 296 : 40;
const SIGSET_SIZE = 128;
const CONTEXT_SIZE = 8192;
// Every context needs its own stack: makecontext keeps the uc_link slot at the stack's
// top, so two contexts sharing a stack would skip steps.
const STACK_SIZE = 16384;
const STACK_TOP_GAP = 64;

const mallocFn = fn('void *malloc(size_t size)');
const freeFn = fn('void free(void *ptr)');
const getcontextFn = fn('int getcontext(void *ucp)');
const makecontextFn = fn('void makecontext(void *ucp, void *func, int argc, ...)');

/** Function addresses by symbol, looked up once. */
const symbols = new Map<string, bigint>();
function symbol(name: string): bigint {
  let address = symbols.get(name);
  if (address === undefined) {
    address = symbolAddress(name);
    symbols.set(name, address);
  }
  return address;
}

/** The libc function a call runs, and the leading arguments it adds (syscall numbers). */
export function resolveCall(call: ChainCall): { symbol: string; prefix: bigint[] } {
  if (!call.startsWith('sys_')) return { symbol: call, prefix: [] };
  const name = call.slice(4) as keyof typeof SYS;
  const number = SYS[name];
  if (number === undefined) throw new Error(`no system call number for ${call}`);
  return { symbol: 'syscall', prefix: [BigInt(number)] };
}

interface Piece {
  ref: Ref;
  bytes: Uint8Array;
  /** 8-byte slots in `bytes` that hold the address of another piece. */
  pointers: { at: number; to: Ref }[];
}

type Value = bigint | Ref;

interface Link {
  address: bigint;
  args: Value[];
}

/** A built chain: its memory stays valid until free(). */
export interface Chain {
  /** The first context: clone(setcontext, stackTop, flags, entry). */
  readonly entry: bigint;
  /** The top of the stack clone() starts the child on (setcontext switches away at once). */
  readonly stackTop: bigint;
  /** The address a Ref got. */
  address(ref: Ref): bigint;
  free(): void;
}

const encoder = new TextEncoder();

function cString(s: string): Uint8Array {
  // Planners check config strings with field names; this is the last line of defence.
  if (s.includes('\0')) throw new BerthError(`${JSON.stringify(s)} contains a NUL byte, which a C string cannot hold`);
  const bytes = new Uint8Array(Buffer.byteLength(s) + 1);
  encoder.encodeInto(s, bytes);
  return bytes;
}

export class ChainBuilder {
  private readonly pieces: Piece[] = [];
  private dataSize = 0;
  private readonly links: Link[] = [];

  /** Reserve a copy of these bytes in the chain's memory (8-byte aligned). */
  bytes(bytes: Uint8Array): Ref {
    return this.piece(bytes, []);
  }

  string(s: string): Ref {
    return this.bytes(cString(s));
  }

  /** A NULL-terminated array of pointers to C strings (argv, envp). */
  strings(list: readonly string[]): Ref {
    const table = new Uint8Array(8 * (list.length + 1));
    const pointers = list.map((s, i) => ({ at: 8 * i, to: this.string(s) }));
    return this.piece(table, pointers);
  }

  /** struct sock_fprog { unsigned short len; struct sock_filter *filter; } around a program. */
  bpf(program: Uint8Array): Ref {
    if (program.length === 0 || program.length % 8 !== 0) {
      throw new Error(`a BPF program is a non-empty list of 8-byte instructions, not ${program.length} bytes`);
    }
    const filter = this.bytes(program);
    const fprog = new Uint8Array(16);
    new DataView(fprog.buffer).setUint16(0, program.length / 8, true);
    return this.piece(fprog, [{ at: 8, to: filter }]);
  }

  /** Append one call: the child calls `call(args...)` and goes on to the next one. */
  call(call: ChainCall, args: readonly NativeArg[]): void {
    const { symbol: name, prefix } = resolveCall(call);
    const values = [...prefix, ...args.map((a) => this.value(a))];
    // makecontext passes at most this many 64-bit arguments portably (x86_64: 6 in
    // registers + stack; aarch64: 8 in registers); syscall() needs the number + 6.
    if (values.length > 7) throw new Error(`${call}: too many arguments (${args.length})`);
    this.links.push({ address: symbol(name), args: values });
  }

  /**
   * A call wrapped so that the parent learns its errno: clear errno, make the call,
   * write the 4 bytes of errno to reportFd. A step's return value is lost; its errno is not.
   */
  reportedCall(call: ChainCall, args: readonly NativeArg[], errnoAddress: bigint, reportFd: number): void {
    const errno = { address: errnoAddress };
    this.call('memset', [errno, 0, 4]);
    this.call(call, args);
    this.call('write', [reportFd, errno, 4]);
  }

  /** Allocate and fill the chain's memory and prepare every context. */
  build(): Chain {
    if (this.links.length === 0) throw new Error('an empty chain');
    const contexts = this.links.length * CONTEXT_SIZE;
    // One stack per context, plus the one clone() starts on.
    const stacks = (this.links.length + 1) * STACK_SIZE;
    const total = contexts + stacks + this.dataSize;
    const base = mallocFn(total) as bigint | null;
    if (!base) throw new Error(`malloc(${total}) failed`);
    const memory = new Uint8Array(koffi.view(base, total));
    const view = new DataView(memory.buffer);
    const dataStart = contexts + stacks;
    const address = (ref: Ref): bigint => base + BigInt(dataStart + ref.offset);

    for (const { ref, bytes, pointers } of this.pieces) {
      memory.set(bytes, dataStart + ref.offset);
      for (const { at, to } of pointers) view.setBigUint64(dataStart + ref.offset + at, address(to), true);
    }

    const stackBase = (i: number) => contexts + i * STACK_SIZE;
    this.links.forEach((link, i) => {
      const ctx = i * CONTEXT_SIZE;
      const ctxAddress = base + BigInt(ctx);
      if ((getcontextFn(ctxAddress) as number) !== 0) throw new Error('getcontext failed');
      const next = i + 1 < this.links.length ? base + BigInt((i + 1) * CONTEXT_SIZE) : 0n;
      view.setBigUint64(ctx + UC_LINK, next, true);
      view.setBigUint64(ctx + UC_STACK_SP, base + BigInt(stackBase(i)), true);
      view.setBigUint64(ctx + UC_STACK_FLAGS, 0n, true);
      view.setBigUint64(ctx + UC_STACK_SIZE, BigInt(STACK_SIZE), true);
      // setcontext restores this mask at every step: the container starts with none blocked.
      memory.fill(0, ctx + UC_SIGMASK, ctx + UC_SIGMASK + SIGSET_SIZE);
      const variadic = link.args.flatMap((v) => ['uint64_t', v instanceof Ref ? address(v) : v]);
      makecontextFn(ctxAddress, link.address, link.args.length, ...variadic);
    });

    let freed = false;
    return {
      entry: base,
      stackTop: base + BigInt(stackBase(this.links.length) + STACK_SIZE - STACK_TOP_GAP),
      address,
      free() {
        if (freed) return;
        freed = true;
        freeFn(base);
      },
    };
  }

  private piece(bytes: Uint8Array, pointers: Piece['pointers']): Ref {
    const ref = new Ref(this.dataSize, bytes.length);
    this.pieces.push({ ref, bytes, pointers });
    this.dataSize += (bytes.length + 7) & ~7;
    return ref;
  }

  // Every argument travels as 64 bits; a callee taking an int reads the low 32, so
  // negative values (AT_FDCWD) arrive intact.
  private value(arg: NativeArg): Value {
    if (arg === null) return 0n;
    if (typeof arg === 'number') {
      if (!Number.isInteger(arg)) throw new Error(`not an integer argument: ${arg}`);
      return BigInt.asUintN(64, BigInt(arg));
    }
    if (typeof arg === 'bigint') return BigInt.asUintN(64, arg);
    if (typeof arg === 'string') return this.string(arg);
    if (arg instanceof Ref) return arg;
    if ('address' in arg) return arg.address;
    if ('bytes' in arg) return this.bytes(arg.bytes);
    if ('strings' in arg) return this.strings(arg.strings);
    return this.bpf(arg.bpf);
  }
}
