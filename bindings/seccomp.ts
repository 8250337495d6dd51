// libseccomp, loaded only when present: berth runs without it, and says so in
// `--version` and `features`.
import { closeSync, fstatSync, readSync } from 'node:fs';
import koffi, { type LibraryHandle } from 'koffi';
import { errnoNumber } from './errno.js';
import { check, fn, SysError } from './libc.js';

let library: LibraryHandle | null | undefined;

export function libseccomp(): LibraryHandle | null {
  if (library === undefined) {
    try {
      library = koffi.load('libseccomp.so.2');
    } catch {
      library = null;
    }
  }
  return library;
}

/** "2.5.4", or null when libseccomp is not installed. */
export function libseccompVersion(): string | null {
  const lib = libseccomp();
  if (!lib) return null;
  koffi.struct('scmp_version', { major: 'uint', minor: 'uint', micro: 'uint' });
  const version = lib.func('const scmp_version *seccomp_version()');
  const v = koffi.decode(version(), 'scmp_version') as { major: number; minor: number; micro: number };
  return `${v.major}.${v.minor}.${v.micro}`;
}

/** struct scmp_arg_cmp { unsigned int arg; enum scmp_compare op; scmp_datum_t datum_a, datum_b; } */
export interface ArgCompare {
  arg: number;
  op: number;
  a: bigint;
  b: bigint;
}

const SCMP_ARG_CMP_SIZE = 24;
/** seccomp_syscall_resolve_name()'s answer for a name libseccomp does not know. */
const NR_SCMP_ERROR = -1;
const MFD_CLOEXEC = 1;

/**
 * A libseccomp filter context, used only to compile a filter to BPF in the runtime
 * process (never loaded here: the container's child installs the exported program).
 * libseccomp returns -errno rather than setting errno; failures become SysErrors.
 */
export class SeccompFilter {
  private ctx: unknown;

  constructor(defaultAction: number) {
    this.ctx = sfn('void *seccomp_init(uint32_t def_action)')(defaultAction);
    if (!this.ctx) throw new SysError(`seccomp_init(0x${defaultAction.toString(16)})`, errnoNumber('EINVAL'));
  }

  /** Add an architecture by libseccomp name ("x86_64"); false when libseccomp does not know it. */
  addArch(name: string): boolean {
    const token = sfn('uint32_t seccomp_arch_resolve_name(const char *arch_name)')(name) as number;
    if (token === 0) return false;
    const rc = sfn('int seccomp_arch_add(void *ctx, uint32_t arch_token)')(this.ctx, token) as number;
    // The native architecture is always present already.
    if (rc < 0 && -rc !== errnoNumber('EEXIST')) throw new SysError(`seccomp_arch_add("${name}")`, -rc);
    return true;
  }

  /** The native system call number, or null when libseccomp does not know the name. */
  resolveSyscall(name: string): number | null {
    const nr = sfn('int seccomp_syscall_resolve_name(const char *name)')(name) as number;
    return nr === NR_SCMP_ERROR ? null : nr;
  }

  addRule(action: number, syscall: number, conditions: readonly ArgCompare[]): void {
    const array = Buffer.alloc(conditions.length * SCMP_ARG_CMP_SIZE);
    conditions.forEach((c, i) => {
      const at = i * SCMP_ARG_CMP_SIZE;
      array.writeUInt32LE(c.arg, at);
      array.writeUInt32LE(c.op, at + 4);
      array.writeBigUInt64LE(c.a, at + 8);
      array.writeBigUInt64LE(c.b, at + 16);
    });
    const add = sfn(
      'int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall, unsigned int arg_cnt, const void *arg_array)',
    );
    const rc = add(this.ctx, action, syscall, conditions.length, conditions.length ? array : null) as number;
    if (rc < 0) throw new SysError(`seccomp_rule_add_array(0x${action.toString(16)}, ${syscall})`, -rc);
  }

  /** The filter as a classic BPF program (struct sock_filter[]), through a memfd. */
  exportBpf(): Uint8Array {
    const memfd = check('memfd_create', ['berth-seccomp'], fn('int memfd_create(const char *name, unsigned int flags)')('berth-seccomp', MFD_CLOEXEC) as number);
    try {
      const rc = sfn('int seccomp_export_bpf(void *ctx, int fd)')(this.ctx, memfd) as number;
      if (rc < 0) throw new SysError('seccomp_export_bpf', -rc);
      const bpf = Buffer.alloc(fstatSync(memfd).size);
      readSync(memfd, bpf, 0, bpf.length, 0);
      return new Uint8Array(bpf);
    } finally {
      closeSync(memfd);
    }
  }

  release(): void {
    if (this.ctx) sfn('void seccomp_release(void *ctx)')(this.ctx);
    this.ctx = null;
  }
}

type Func = ReturnType<LibraryHandle['func']>;

const declared = new Map<string, Func>();

/** Declare a libseccomp function by its C prototype, once (as libc.ts's fn). */
function sfn(prototype: string): Func {
  let f = declared.get(prototype);
  if (!f) {
    const lib = libseccomp();
    if (!lib) throw new Error('libseccomp.so.2 is not installed');
    f = lib.func(prototype);
    declared.set(prototype, f);
  }
  return f;
}
