// A simulation of the child's fd table over a plan, to hold the planner to the
// invariant steps.ts states: every open lands on the lowest free fd, every fd a step
// uses is open at that point, and the table is as it started when the user's process
// runs (apart from fds the plan keeps on purpose). plan() runs it on every plan it
// makes, so a planner bug is an internal error, not a step acting on the wrong file.
import type { Plan, Step } from '../steps.js';

export const OPENS = new Set<Step['call']>(['open', 'openat', 'sys_openat2', 'sys_open_tree']);

/** Argument positions that hold fds (AT_FDCWD is not one). */
export const FD_ARGS: Partial<Record<Step['call'], number[]>> = {
  close: [0], fchdir: [0], fchmod: [0], mkdirat: [0], mknodat: [0], fchownat: [0], openat: [0],
  sys_openat2: [0], symlinkat: [1], read: [0], write: [0], setns: [0], fcntl: [0], ioctl: [0],
  sys_mount_setattr: [0], sys_open_tree: [0], sys_move_mount: [0, 2], dup3: [0],
  sendfile: [0, 1], fchown: [0], fchmodat: [0],
};

const AT_FDCWD = -100;

function fdArgs(step: Step): number[] {
  const fds = (FD_ARGS[step.call] ?? []).map((i) => step.args[i]).filter((a): a is number => typeof a === 'number' && a !== AT_FDCWD);
  for (const arg of step.args) {
    const m = typeof arg === 'string' ? /^\/proc\/self\/fd\/(\d+)$/.exec(arg) : null;
    if (m) fds.push(Number(m[1]));
  }
  return fds;
}

function lowestFree(open: Set<number>): number {
  let fd = 0;
  while (open.has(fd)) fd++;
  return fd;
}

/**
 * Throws an Error naming the first step that breaks the invariant. `kept` are fds the
 * plan opens and leaves open for the user's process on purpose.
 */
export function checkFds(plan: Pick<Plan, 'fds' | 'steps'>, kept: readonly number[] = []): void {
  const open = new Set<number>();
  for (let fd = 0; fd < plan.fds.firstFree; fd++) open.add(fd);
  plan.steps.forEach((step, i) => {
    const where = `step ${i} (${step.call}: ${step.what})`;
    for (const fd of fdArgs(step)) {
      if (!open.has(fd)) throw new Error(`fd ${fd} is used by ${where} but is not open then`);
    }
    if (step.call === 'close') open.delete(step.args[0] as number);
    if (step.call === 'dup3') open.add(step.args[1] as number);
    if (OPENS.has(step.call)) open.add(lowestFree(open));
  });
  const expected = new Set([...Array(plan.fds.firstFree).keys(), ...kept]);
  const leaked = [...open].filter((fd) => !expected.has(fd));
  if (leaked.length) throw new Error(`fds ${leaked.join(', ')} are still open when the process starts`);
}
