// The bpf(2) system call, which glibc does not wrap: syscall(SYS_bpf, cmd, &attr, size)
// with `union bpf_attr` laid out by hand as bytes. Only what cgroup device programs
// need: load a program, attach and detach it, list what a cgroup has attached.
import koffi from 'koffi';
import { check, fn } from './libc.js';

const SYS_BPF: Record<string, number> = { x64: 321, arm64: 280 };

const BPF_PROG_LOAD = 5;
const BPF_PROG_ATTACH = 8;
const BPF_PROG_DETACH = 9;
const BPF_PROG_GET_FD_BY_ID = 13;
const BPF_PROG_QUERY = 16;

export const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
export const BPF_CGROUP_DEVICE = 6;
export const BPF_F_ALLOW_MULTI = 2;

/** Room for every bpf_attr member these commands use; the kernel wants the rest zero. */
const ATTR_SIZE = 128;

function bpf(cmd: number, attr: Buffer, what: string): number {
  const nr = SYS_BPF[process.arch];
  if (nr === undefined) throw new Error(`bpf: unsupported architecture ${process.arch}`);
  const syscall = fn('long syscall(long number, ...)');
  const result = Number(syscall(nr, 'int', cmd, 'void *', attr, 'uint', ATTR_SIZE));
  return check('bpf', [what], result);
}

export interface LoadResult {
  fd: number;
  /** The verifier's log when loading failed (empty otherwise). */
  log: string;
}

/** BPF_PROG_LOAD: the program's fd; a rejected program throws with the verifier's log. */
export function loadProgram(type: number, insns: Uint8Array, license = 'GPL'): number {
  // Unpooled buffers: their addresses are their own, and they live through the call.
  const code = Buffer.alloc(insns.length);
  code.set(insns);
  const lic = Buffer.alloc(license.length + 1);
  lic.write(license);
  const logBuf = Buffer.alloc(64 * 1024);
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(type, 0); // prog_type
  attr.writeUInt32LE(insns.length / 8, 4); // insn_cnt
  attr.writeBigUInt64LE(koffi.address(code), 8); // insns
  attr.writeBigUInt64LE(koffi.address(lic), 16); // license
  attr.writeUInt32LE(1, 24); // log_level
  attr.writeUInt32LE(logBuf.length, 28); // log_size
  attr.writeBigUInt64LE(koffi.address(logBuf), 32); // log_buf
  try {
    return bpf(BPF_PROG_LOAD, attr, 'BPF_PROG_LOAD');
  } catch (e) {
    const verifier = logBuf.subarray(0, logBuf.indexOf(0)).toString().trim();
    if (verifier && e instanceof Error) e.message += `\n${verifier}`;
    throw e;
  }
}

function attachAttr(targetFd: number, progFd: number, type: number, flags: number): Buffer {
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(targetFd, 0); // target_fd
  attr.writeUInt32LE(progFd, 4); // attach_bpf_fd
  attr.writeUInt32LE(type, 8); // attach_type
  attr.writeUInt32LE(flags, 12); // attach_flags
  return attr;
}

/** BPF_PROG_ATTACH a program to a cgroup (by an fd of its directory). */
export function attachProgram(cgroupFd: number, progFd: number, type: number, flags: number): void {
  bpf(BPF_PROG_ATTACH, attachAttr(cgroupFd, progFd, type, flags), 'BPF_PROG_ATTACH');
}

/** BPF_PROG_DETACH one program of a BPF_F_ALLOW_MULTI cgroup. */
export function detachProgram(cgroupFd: number, progFd: number, type: number): void {
  bpf(BPF_PROG_DETACH, attachAttr(cgroupFd, progFd, type, 0), 'BPF_PROG_DETACH');
}

/** BPF_PROG_QUERY: the ids of the programs attached directly to a cgroup. */
export function queryPrograms(cgroupFd: number, type: number): number[] {
  const ids = Buffer.alloc(4 * 64);
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(cgroupFd, 0); // target_fd
  attr.writeUInt32LE(type, 4); // attach_type
  attr.writeBigUInt64LE(koffi.address(ids), 16); // prog_ids
  attr.writeUInt32LE(64, 24); // prog_cnt (in: room, out: count)
  bpf(BPF_PROG_QUERY, attr, 'BPF_PROG_QUERY');
  const count = attr.readUInt32LE(24);
  return Array.from({ length: count }, (_, i) => ids.readUInt32LE(i * 4));
}

/** BPF_PROG_GET_FD_BY_ID: an fd for an attached program, to detach it. */
export function programFdById(id: number): number {
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(id, 0);
  return bpf(BPF_PROG_GET_FD_BY_ID, attr, `BPF_PROG_GET_FD_BY_ID ${id}`);
}
