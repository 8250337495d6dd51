// The cgroup2 device filter: the program berth assembles is accepted by the kernel's
// verifier, decides like the rules say (checked by a small interpreter of the eBPF
// subset the assembler emits, and by real opens), and replaces the previous program on
// update.
import t from 'tap';
import { closeSync, openSync } from 'node:fs';
import { BPF_CGROUP_DEVICE, BPF_PROG_TYPE_CGROUP_DEVICE, loadProgram, queryPrograms } from '../bindings/bpf.js';
import { ACC_MKNOD, ACC_READ, ACC_WRITE, DEV_BLOCK, DEV_CHAR, deviceFilter, deviceProgram, type Insn } from '../src/cgroups/devices-bpf.js';
import { DEFAULT_DEVICE_RULES, deviceRules } from '../src/cgroups/devices.js';
import { CgroupManager } from '../src/cgroups/manager.js';
import { resolvePaths } from '../src/cgroups/paths.js';
import { UNIFIED, type DeviceRule } from '../src/cgroups/types.js';
import { layout, spawnWaiting, testCgroupRoot } from './helpers/cgroups.js';

/** Run a program over a bpf_cgroup_dev_ctx, with the semantics of the kernel's interpreter. */
function run(program: Insn[], type: number, access: number, major: number, minor: number): number {
  const ctx = [((access << 16) | type) >>> 0, major >>> 0, minor >>> 0];
  const r = new Array<number>(11).fill(0);
  const u32 = (n: number) => n >>> 0;
  for (let pc = 0; pc < program.length; pc++) {
    const { code, dst, src, off, imm } = program[pc]!;
    switch (code) {
      case 0x61: r[dst] = ctx[off / 4]!; break; // ldxw (r1 is the ctx)
      case 0x54: r[dst] = u32(r[dst]! & imm); break;
      case 0x74: r[dst] = u32(r[dst]! >>> imm); break;
      case 0xbc: r[dst] = u32(r[src]!); break;
      case 0xb7: r[dst] = imm; break;
      case 0x56: if (u32(r[dst]!) !== u32(imm)) pc += off; break;
      case 0x5e: if (u32(r[dst]!) !== u32(r[src]!)) pc += off; break;
      case 0x95: return r[0]!;
      default: throw new Error(`unexpected opcode 0x${code.toString(16)} at ${pc}`);
    }
  }
  throw new Error('fell off the end of the program');
}

const RW = ACC_READ | ACC_WRITE;
const RWM = RW | ACC_MKNOD;

t.test('decisions of the default rules after a deny-all (what every container gets)', async (t) => {
  const program = deviceProgram(deviceRules([{ allow: false, access: 'rwm' }]));
  const table: [string, number, number, number, number, number][] = [
    ['read /dev/null', DEV_CHAR, ACC_READ, 1, 3, 1],
    ['rw /dev/zero', DEV_CHAR, RW, 1, 5, 1],
    ['rwm /dev/urandom', DEV_CHAR, RWM, 1, 9, 1],
    ['rw /dev/full', DEV_CHAR, RW, 1, 7, 1],
    ['rw /dev/tty', DEV_CHAR, RW, 5, 0, 1],
    ['rw /dev/ptmx', DEV_CHAR, RW, 5, 2, 1],
    ['rw a pts', DEV_CHAR, RW, 136, 7, 1],
    ['rw /dev/net/tun', DEV_CHAR, RW, 10, 200, 1],
    ['read /dev/mem', DEV_CHAR, ACC_READ, 1, 1, 0],
    ['read /dev/kmsg', DEV_CHAR, ACC_READ, 1, 11, 0],
    ['rw /dev/console', DEV_CHAR, RW, 5, 1, 0],
    ['read a disk', DEV_BLOCK, ACC_READ, 8, 0, 0],
    ['mknod a disk', DEV_BLOCK, ACC_MKNOD, 8, 0, 1],
    ['mknod any char device', DEV_CHAR, ACC_MKNOD, 4, 64, 1],
    ['block 1:3 is not char 1:3', DEV_BLOCK, ACC_READ, 1, 3, 0],
  ];
  for (const [name, type, access, major, minor, want] of table) t.equal(run(program, type, access, major, minor), want, name);
});

t.test('rule semantics: later rules win, access must be within the rule, wildcards', async (t) => {
  const rules: DeviceRule[] = [
    { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
    { allow: false, type: 'c', major: 1, minor: 3, access: 'w' },
    { allow: true, type: 'b', major: 8, access: 'r' },
    { allow: true, type: 'c', minor: 42, access: 'rw' },
  ];
  const p = deviceProgram(rules);
  t.equal(run(p, DEV_CHAR, ACC_WRITE, 1, 3), 0, 'a later deny of w wins for w');
  t.equal(run(p, DEV_CHAR, ACC_READ, 1, 3), 1, 'r still allowed by the earlier rule');
  t.equal(run(p, DEV_BLOCK, ACC_READ, 8, 16), 1, 'b 8:* r');
  t.equal(run(p, DEV_BLOCK, RW, 8, 16), 0, 'rw is more than r');
  t.equal(run(p, DEV_CHAR, RW, 99, 42), 1, 'c *:42');
  t.equal(run(p, DEV_CHAR, RW, 99, 43), 0, 'nothing matched: deny');
  t.equal(run(p, DEV_CHAR, RW, 0x80000001, 42), 1, 'majors above 2^31');
  t.equal(run(deviceProgram([{ allow: true }]), DEV_BLOCK, RWM, 8, 0), 1, 'a *:* rwm allows everything');
  t.equal(run(deviceProgram([]), DEV_CHAR, ACC_READ, 1, 3), 0, 'no rules: deny');
});

if (process.getuid?.() !== 0 || !layout.unified) {
  t.end();
} else {
  t.test('the verifier accepts the programs', async (t) => {
    for (const rules of [[], [{ allow: true }], deviceRules([{ allow: false, access: 'rwm' }]), [...DEFAULT_DEVICE_RULES, { allow: true, type: 'b', major: 7, minor: 0, access: 'r' }]] as DeviceRule[][]) {
      const fd = loadProgram(BPF_PROG_TYPE_CGROUP_DEVICE, deviceFilter(rules));
      t.ok(fd > 2, `loaded ${rules.length} rules`);
      closeSync(fd);
    }
    t.throws(() => loadProgram(BPF_PROG_TYPE_CGROUP_DEVICE, new Uint8Array(8)), { message: /^bpf\("BPF_PROG_LOAD"\): EINVAL\n/ }, 'a broken program is refused with the verifier log');
  });

  t.test('attached to a cgroup, the program allows /dev/null and denies /dev/full', async (t) => {
    const all = resolvePaths(`${testCgroupRoot(t)}/c`, 'c', layout, {});
    const m = new CgroupManager({ [UNIFIED]: all[UNIFIED]! }, layout);
    m.create();
    t.teardown(() => m.destroy({ force: true }));
    m.apply({ devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 5, access: 'r' }] });
    const script = [
      'echo x > /dev/null && echo null-write-ok',
      'head -c 1 /dev/zero > /dev/null && echo zero-read-ok',
      'echo x > /dev/zero || echo zero-write-denied',
      'head -c 1 /dev/full || echo full-denied',
    ].join('; ');
    const child = spawnWaiting(t, script);
    m.addProcess(child.pid!);
    child.go();
    const r = await child.exited;
    t.match(r.stdout, /null-write-ok/);
    t.match(r.stdout, /zero-read-ok/);
    t.match(r.stdout, /zero-write-denied/);
    t.match(r.stdout, /full-denied/);
    t.match(r.stderr, /Operation not permitted/);

    // An update replaces the program: one attached, and the new rules hold.
    const fd = openSync(m.paths[UNIFIED]!, 'r');
    t.teardown(() => closeSync(fd));
    t.equal(queryPrograms(fd, BPF_CGROUP_DEVICE).length, 1);
    m.apply({ devices: [{ allow: true, type: 'c', major: 1, minor: 7, access: 'r' }] });
    t.equal(queryPrograms(fd, BPF_CGROUP_DEVICE).length, 1, 'the old program was detached');
    const again = spawnWaiting(t, 'head -c 1 /dev/full | od -An -tx1; echo x > /dev/null || echo null-denied');
    m.addProcess(again.pid!);
    again.go();
    const r2 = await again.exited;
    t.match(r2.stdout, /00/, '/dev/full is readable now');
    t.match(r2.stdout, /null-denied/, '/dev/null is not any more');
  });
}
