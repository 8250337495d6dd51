// Device rules -> a BPF_PROG_TYPE_CGROUP_DEVICE program, as bytes. cgroup2 has no
// devices.allow/deny files: the kernel runs this program on every open and mknod of a
// device node by a process in the cgroup, with a struct bpf_cgroup_dev_ctx
// { u32 access_type (access << 16 | type); u32 major; u32 minor; } in r1, and allows
// the access when it returns 1.
//
// The program checks the rules from the last to the first, so that (as with v1's
// devices.allow/deny, applied in order) a later rule overrides an earlier one; a rule
// matches when the type, major and minor match and the access asked for is a subset of
// the rule's. Nothing matched: deny.
import type { DeviceRule } from './types.js';

/** bpf_cgroup_dev_ctx's type and access bits (include/uapi/linux/bpf.h). */
export const DEV_BLOCK = 1;
export const DEV_CHAR = 2;
export const ACC_MKNOD = 1;
export const ACC_READ = 2;
export const ACC_WRITE = 4;

// Instruction classes and operations (include/uapi/linux/bpf_common.h, bpf.h).
const LDX_MEM_W = 0x61; // dst = *(u32 *)(src + off)
const ALU32_AND_K = 0x54;
const ALU32_RSH_K = 0x74;
const ALU32_MOV_X = 0xbc;
const ALU64_MOV_K = 0xb7;
const JMP32_JNE_K = 0x56; // 32-bit compares: majors above 2^31 stay unsigned
const JMP32_JNE_X = 0x5e;
const EXIT = 0x95;

// Registers after the prologue.
const R0 = 0, R1 = 1, R_TYPE = 2, R_ACCESS = 3, R_MAJOR = 4, R_MINOR = 5;

export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

const insn = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm });

function accessBits(access: string | undefined): number {
  const a = access || 'rwm';
  return (a.includes('m') ? ACC_MKNOD : 0) | (a.includes('r') ? ACC_READ : 0) | (a.includes('w') ? ACC_WRITE : 0);
}

const ALL_ACCESS = ACC_MKNOD | ACC_READ | ACC_WRITE;

/** One rule's block; `skip` placeholders are patched to jump past the block. */
function ruleBlock(rule: DeviceRule): Insn[] {
  const checks: Insn[] = [];
  const type = rule.type ?? 'a';
  if (type === 'c' || type === 'b') checks.push(insn(JMP32_JNE_K, R_TYPE, 0, -1, type === 'c' ? DEV_CHAR : DEV_BLOCK));
  const access = accessBits(rule.access);
  if (access !== ALL_ACCESS) {
    // if ((access & rule) != access) skip: the request must be within the rule.
    checks.push(insn(ALU32_MOV_X, R1, R_ACCESS, 0, 0), insn(ALU32_AND_K, R1, 0, 0, access), insn(JMP32_JNE_X, R1, R_ACCESS, -1, 0));
  }
  if (rule.major !== undefined && rule.major !== null && rule.major >= 0) checks.push(insn(JMP32_JNE_K, R_MAJOR, 0, -1, rule.major | 0));
  if (rule.minor !== undefined && rule.minor !== null && rule.minor >= 0) checks.push(insn(JMP32_JNE_K, R_MINOR, 0, -1, rule.minor | 0));
  const block = [...checks, insn(ALU64_MOV_K, R0, 0, 0, rule.allow ? 1 : 0), insn(EXIT, 0, 0, 0, 0)];
  // A jump's offset counts from the instruction after it to the end of the block.
  return block.map((ins, i) => (ins.off === -1 ? { ...ins, off: block.length - i - 1 } : ins));
}

/** The program as instructions (for tests that evaluate it). */
export function deviceProgram(rules: readonly DeviceRule[]): Insn[] {
  const prologue = [
    insn(LDX_MEM_W, R_TYPE, R1, 0, 0),
    insn(ALU32_AND_K, R_TYPE, 0, 0, 0xffff),
    insn(LDX_MEM_W, R_ACCESS, R1, 0, 0),
    insn(ALU32_RSH_K, R_ACCESS, 0, 0, 16),
    insn(LDX_MEM_W, R_MAJOR, R1, 4, 0),
    insn(LDX_MEM_W, R_MINOR, R1, 8, 0),
  ];
  const body: Insn[] = [];
  for (const rule of [...rules].reverse()) {
    const block = ruleBlock(rule);
    body.push(...block);
    // A rule that matches everything decides every access: the verifier rejects
    // unreachable code after it.
    if (block.length === 2) return [...prologue, ...body];
  }
  return [...prologue, ...body, insn(ALU64_MOV_K, R0, 0, 0, 0), insn(EXIT, 0, 0, 0, 0)];
}

/** struct bpf_insn encoding: code u8, dst:4|src:4 u8, off s16, imm s32 (little endian). */
export function encodeProgram(insns: readonly Insn[]): Uint8Array {
  const bytes = new Uint8Array(insns.length * 8);
  const view = new DataView(bytes.buffer);
  insns.forEach((ins, i) => {
    view.setUint8(i * 8, ins.code);
    view.setUint8(i * 8 + 1, (ins.src << 4) | ins.dst);
    view.setInt16(i * 8 + 2, ins.off, true);
    view.setInt32(i * 8 + 4, ins.imm, true);
  });
  return bytes;
}

export function deviceFilter(rules: readonly DeviceRule[]): Uint8Array {
  return encodeProgram(deviceProgram(rules));
}
