// Resources -> cgroup file writes, pure: every v1 and v2 conversion lives here so that
// it can be tested without root and without a host of either kind. The conversions are
// runc's (libcontainer/cgroups/fs for v1, fs2 for v2), so that a container gets the same
// limits whichever runtime an engine calls.
import { BerthError } from '../errors.js';
import type { Layout } from './layout.js';
import { UNIFIED, type DeviceRule, type Resources, type ThrottleDevice } from './types.js';

/** One write into a cgroup directory. */
export interface PlanEntry {
  /** Which directory: a v1 controller name, or UNIFIED for the cgroup2 one. */
  controller: string;
  /** File name inside that directory. */
  file: string;
  value: string;
  /** The config field this write implements, for errors: `linux.resources.memory.limit`. */
  field: string;
  /** When `file` does not exist in the directory, write this instead. */
  orElse?: { file: string; value: string };
  /** Skip the write when the file does not exist (a kernel feature the host may lack). */
  ifExists?: boolean;
}

export interface CgroupPlan {
  writes: PlanEntry[];
  /** Device rules to enforce with an eBPF program (cgroup2 has no devices files). */
  bpfDevices?: DeviceRule[];
  /** Settings accepted but ignored, as runc ignores them (kernel memory). */
  warnings: string[];
}

export interface PlanOptions {
  /** The current memory limit (v1), which decides the order of the limit and swap writes. */
  currentMemoryLimit?: number;
}

const FIELD = 'linux.resources';

/** The cgroup2 name of each v1 controller that has a different one. */
const V2_NAME: Record<string, string> = { blkio: 'io' };

/** Where a controller's files go on this layout: a v1 controller, UNIFIED, or an error. */
function target(layout: Layout, controller: string, field: string): string {
  if (layout.kind !== 'v2' && layout.v1[controller]) return controller;
  const v2Name = V2_NAME[controller] ?? controller;
  if (layout.unified && layout.unifiedControllers.includes(v2Name)) return UNIFIED;
  throw new BerthError(`${field}: the ${controller} cgroup controller is not available on this host (cgroup ${layout.kind})`);
}

function unsupportedOnV2(field: string): never {
  throw new BerthError(`${field}: not supported on cgroup v2`);
}

/** A config number as the kernel wants it: integral, in decimal, without float artefacts. */
function num(n: number): string {
  return BigInt(Math.trunc(n)).toString();
}

const set = <T>(v: T | null | undefined): v is T => v !== undefined && v !== null;
/** runc's "0 means leave alone" for most numeric settings. */
const nonZero = (v: number | null | undefined): v is number => set(v) && v !== 0;

/** runc's cpu.shares (2..262144) -> cpu.weight (1..10000). */
export function sharesToWeight(shares: number): number {
  return Number(1n + ((BigInt(shares) - 2n) * 9999n) / 262142n);
}

/** runc's blkio.weight (10..1000) -> io.weight (1..10000). */
export function blkioToIoWeight(weight: number): number {
  return Number(1n + ((BigInt(weight) - 10n) * 9999n) / 990n);
}

/** runc's memory.swap (memory+swap, v1 semantics) -> memory.swap.max (swap alone). */
export function swapToV2(swap: number, limit: number, field: string): number {
  if (limit === -1 && swap === 0) return -1;
  if (swap === -1 || swap === 0) return swap;
  if (limit === 0) throw new BerthError(`${field}: a swap limit needs a memory limit`);
  if (limit < 0) throw new BerthError(`${field}: invalid memory limit ${limit}`);
  if (swap < limit) throw new BerthError(`${field}: memory+swap limit ${swap} is below the memory limit ${limit}`);
  return swap - limit;
}

/** runc's numToStr for cgroup2: 0 means "leave alone", -1 means "max". */
function v2Limit(n: number | null | undefined): string | undefined {
  if (!set(n) || n === 0) return undefined;
  return n === -1 ? 'max' : num(n);
}

class Planner {
  readonly writes: PlanEntry[] = [];
  readonly warnings: string[] = [];
  bpfDevices?: DeviceRule[];

  constructor(readonly layout: Layout, readonly options: PlanOptions) {}

  add(controller: string, file: string, value: string, field: string, extra: Partial<PlanEntry> = {}): void {
    this.writes.push({ controller, file, value, field, ...extra });
  }

  memory(r: NonNullable<Resources['memory']>): void {
    const field = `${FIELD}.memory`;
    if (set(r.kernel)) this.warnings.push(`${field}.kernel: kernel memory limits are deprecated and ignored`);
    if (set(r.kernelTCP)) this.warnings.push(`${field}.kernelTCP: kernel TCP memory limits are deprecated and ignored`);
    const needed = [r.limit, r.reservation, r.swap, r.swappiness].some(set) || r.disableOOMKiller === true || r.useHierarchy === true;
    if (!needed) return;
    const where = target(this.layout, 'memory', field);
    if (where === UNIFIED) this.memoryV2(r, field);
    else this.memoryV1(r, field);
  }

  private memoryV1(r: NonNullable<Resources['memory']>, field: string): void {
    const limit = r.limit ?? 0;
    // Unlimited memory with swap left alone means unlimited swap too (runc).
    const swap = limit === -1 && !set(r.swap) ? -1 : r.swap ?? 0;
    const writeLimit = () => limit !== 0 && this.add('memory', 'memory.limit_in_bytes', num(limit), `${field}.limit`);
    const writeSwap = () => swap !== 0 && this.add('memory', 'memory.memsw.limit_in_bytes', num(swap), `${field}.swap`, { ifExists: !set(r.swap) });
    // The kernel wants memsw >= limit at every moment: raise swap first when it grows.
    const current = this.options.currentMemoryLimit;
    if (limit !== 0 && swap !== 0 && (swap === -1 || (current !== undefined && current !== -1 && current < swap))) {
      writeSwap();
      writeLimit();
    } else {
      writeLimit();
      writeSwap();
    }
    if (nonZero(r.reservation)) this.add('memory', 'memory.soft_limit_in_bytes', num(r.reservation), `${field}.reservation`);
    if (set(r.swappiness)) {
      if (r.swappiness < 0 || r.swappiness > 100) throw new BerthError(`${field}.swappiness: ${r.swappiness} is outside 0-100`);
      this.add('memory', 'memory.swappiness', num(r.swappiness), `${field}.swappiness`);
    }
    if (r.disableOOMKiller === true) this.add('memory', 'memory.oom_control', '1', `${field}.disableOOMKiller`);
    if (r.useHierarchy === true) this.add('memory', 'memory.use_hierarchy', '1', `${field}.useHierarchy`);
  }

  private memoryV2(r: NonNullable<Resources['memory']>, field: string): void {
    if (set(r.swappiness)) unsupportedOnV2(`${field}.swappiness`);
    if (r.disableOOMKiller === true) unsupportedOnV2(`${field}.disableOOMKiller`);
    const limit = r.limit ?? 0;
    const swapField = `${field}.swap`;
    const swap = swapToV2(r.swap ?? 0, limit, swapField);
    let swapValue = v2Limit(swap);
    // memory == memory+swap: no swap at all, which is 0, not "leave alone".
    if (swapValue === undefined && swap === 0 && (r.swap ?? 0) > 0) swapValue = '0';
    if (swapValue !== undefined) this.add(UNIFIED, 'memory.swap.max', swapValue, swapField, { ifExists: !set(r.swap) });
    const max = v2Limit(limit);
    if (max !== undefined) this.add(UNIFIED, 'memory.max', max, `${field}.limit`);
    const low = v2Limit(r.reservation);
    if (low !== undefined) this.add(UNIFIED, 'memory.low', low, `${field}.reservation`);
  }

  cpu(r: NonNullable<Resources['cpu']>): void {
    const field = `${FIELD}.cpu`;
    if (set(r.cpus) || set(r.mems)) this.cpuset(r, field);
    const needed = [r.shares, r.quota, r.period, r.realtimeRuntime, r.realtimePeriod].some(nonZero) || set(r.idle) || set(r.burst);
    if (!needed) return;
    const where = target(this.layout, 'cpu', field);
    if (where === UNIFIED) this.cpuV2(r, field);
    else this.cpuV1(r, field);
  }

  private cpuset(r: NonNullable<Resources['cpu']>, field: string): void {
    const where = target(this.layout, 'cpuset', field);
    if (set(r.cpus) && r.cpus !== '') this.add(where, 'cpuset.cpus', r.cpus, `${field}.cpus`);
    if (set(r.mems) && r.mems !== '') this.add(where, 'cpuset.mems', r.mems, `${field}.mems`);
  }

  private cpuV1(r: NonNullable<Resources['cpu']>, field: string): void {
    if (nonZero(r.realtimePeriod)) this.add('cpu', 'cpu.rt_period_us', num(r.realtimePeriod), `${field}.realtimePeriod`);
    if (nonZero(r.realtimeRuntime)) this.add('cpu', 'cpu.rt_runtime_us', num(r.realtimeRuntime), `${field}.realtimeRuntime`);
    if (nonZero(r.shares)) this.add('cpu', 'cpu.shares', num(r.shares), `${field}.shares`);
    if (nonZero(r.period)) this.add('cpu', 'cpu.cfs_period_us', num(r.period), `${field}.period`);
    if (nonZero(r.quota)) this.add('cpu', 'cpu.cfs_quota_us', num(r.quota), `${field}.quota`);
    if (set(r.burst)) this.add('cpu', 'cpu.cfs_burst_us', num(r.burst), `${field}.burst`);
    if (set(r.idle)) this.add('cpu', 'cpu.idle', num(r.idle), `${field}.idle`);
  }

  private cpuV2(r: NonNullable<Resources['cpu']>, field: string): void {
    if (nonZero(r.realtimePeriod)) unsupportedOnV2(`${field}.realtimePeriod`);
    if (nonZero(r.realtimeRuntime)) unsupportedOnV2(`${field}.realtimeRuntime`);
    if (set(r.idle)) this.add(UNIFIED, 'cpu.idle', num(r.idle), `${field}.idle`);
    if (nonZero(r.shares)) this.add(UNIFIED, 'cpu.weight', String(sharesToWeight(r.shares)), `${field}.shares`);
    const quota = r.quota ?? 0;
    const period = r.period ?? 0;
    if (quota !== 0 || period !== 0) {
      let max = quota > 0 ? num(quota) : 'max';
      if (period !== 0) max += ` ${num(period)}`;
      this.add(UNIFIED, 'cpu.max', max, quota !== 0 ? `${field}.quota` : `${field}.period`);
    }
    if (set(r.burst)) this.add(UNIFIED, 'cpu.max.burst', num(r.burst), `${field}.burst`);
  }

  pids(r: NonNullable<Resources['pids']>): void {
    const field = `${FIELD}.pids.limit`;
    if (!set(r.limit) || r.limit === 0) return;
    const where = target(this.layout, 'pids', field);
    this.add(where, 'pids.max', r.limit > 0 ? num(r.limit) : 'max', field);
  }

  blockIO(r: NonNullable<Resources['blockIO']>): void {
    const field = `${FIELD}.blockIO`;
    const throttles = [r.throttleReadBpsDevice, r.throttleWriteBpsDevice, r.throttleReadIOPSDevice, r.throttleWriteIOPSDevice];
    const needed = (nonZero(r.weight)) || (nonZero(r.leafWeight)) || (r.weightDevice?.length ?? 0) > 0 || throttles.some((l) => (l?.length ?? 0) > 0);
    if (!needed) return;
    const where = target(this.layout, 'blkio', field);
    if (where === UNIFIED) this.ioV2(r, field);
    else this.blkioV1(r, field);
  }

  private blkioV1(r: NonNullable<Resources['blockIO']>, field: string): void {
    // Kernels without CFQ only have BFQ's files; runc picks whichever exists.
    if (nonZero(r.weight)) this.add('blkio', 'blkio.weight', num(r.weight), `${field}.weight`, { orElse: { file: 'blkio.bfq.weight', value: num(r.weight) } });
    if (nonZero(r.leafWeight)) this.add('blkio', 'blkio.leaf_weight', num(r.leafWeight), `${field}.leafWeight`);
    (r.weightDevice ?? []).forEach((d, i) => {
      const dev = `${d.major}:${d.minor}`;
      if (nonZero(d.weight)) this.add('blkio', 'blkio.weight_device', `${dev} ${d.weight}`, `${field}.weightDevice[${i}].weight`, { orElse: { file: 'blkio.bfq.weight_device', value: `${dev} ${d.weight}` } });
      if (nonZero(d.leafWeight)) this.add('blkio', 'blkio.leaf_weight_device', `${dev} ${d.leafWeight}`, `${field}.weightDevice[${i}].leafWeight`);
    });
    this.throttle(r.throttleReadBpsDevice, 'blkio', 'blkio.throttle.read_bps_device', (d) => `${d.major}:${d.minor} ${num(d.rate ?? 0)}`, `${field}.throttleReadBpsDevice`);
    this.throttle(r.throttleWriteBpsDevice, 'blkio', 'blkio.throttle.write_bps_device', (d) => `${d.major}:${d.minor} ${num(d.rate ?? 0)}`, `${field}.throttleWriteBpsDevice`);
    this.throttle(r.throttleReadIOPSDevice, 'blkio', 'blkio.throttle.read_iops_device', (d) => `${d.major}:${d.minor} ${num(d.rate ?? 0)}`, `${field}.throttleReadIOPSDevice`);
    this.throttle(r.throttleWriteIOPSDevice, 'blkio', 'blkio.throttle.write_iops_device', (d) => `${d.major}:${d.minor} ${num(d.rate ?? 0)}`, `${field}.throttleWriteIOPSDevice`);
  }

  private ioV2(r: NonNullable<Resources['blockIO']>, field: string): void {
    if (nonZero(r.leafWeight)) unsupportedOnV2(`${field}.leafWeight`);
    // BFQ takes blkio's 10..1000 scale as is; io.weight needs runc's conversion.
    if (nonZero(r.weight)) {
      this.add(UNIFIED, 'io.bfq.weight', num(r.weight), `${field}.weight`, { orElse: { file: 'io.weight', value: String(blkioToIoWeight(r.weight)) } });
    }
    (r.weightDevice ?? []).forEach((d, i) => {
      if (nonZero(d.leafWeight)) unsupportedOnV2(`${field}.weightDevice[${i}].leafWeight`);
      if (!nonZero(d.weight)) return;
      const dev = `${d.major}:${d.minor}`;
      this.add(UNIFIED, 'io.bfq.weight', `${dev} ${d.weight}`, `${field}.weightDevice[${i}].weight`, { orElse: { file: 'io.weight', value: `${dev} ${blkioToIoWeight(d.weight)}` } });
    });
    this.throttle(r.throttleReadBpsDevice, UNIFIED, 'io.max', (d) => `${d.major}:${d.minor} rbps=${num(d.rate ?? 0)}`, `${field}.throttleReadBpsDevice`);
    this.throttle(r.throttleWriteBpsDevice, UNIFIED, 'io.max', (d) => `${d.major}:${d.minor} wbps=${num(d.rate ?? 0)}`, `${field}.throttleWriteBpsDevice`);
    this.throttle(r.throttleReadIOPSDevice, UNIFIED, 'io.max', (d) => `${d.major}:${d.minor} riops=${num(d.rate ?? 0)}`, `${field}.throttleReadIOPSDevice`);
    this.throttle(r.throttleWriteIOPSDevice, UNIFIED, 'io.max', (d) => `${d.major}:${d.minor} wiops=${num(d.rate ?? 0)}`, `${field}.throttleWriteIOPSDevice`);
  }

  private throttle(list: ThrottleDevice[] | undefined, controller: string, file: string, line: (d: ThrottleDevice) => string, field: string): void {
    (list ?? []).forEach((d, i) => this.add(controller, file, line(d), `${field}[${i}]`));
  }

  hugepages(limits: NonNullable<Resources['hugepageLimits']>): void {
    limits.forEach((h, i) => {
      const field = `${FIELD}.hugepageLimits[${i}]`;
      if (!/^[1-9][0-9]*[KMG]B$/.test(h.pageSize)) throw new BerthError(`${field}.pageSize: ${JSON.stringify(h.pageSize)} is not a page size like 2MB`);
      const where = target(this.layout, 'hugetlb', field);
      const [limitFile, rsvdFile] = where === UNIFIED ? ['max', 'rsvd.max'] : ['limit_in_bytes', 'rsvd.limit_in_bytes'];
      this.add(where, `hugetlb.${h.pageSize}.${limitFile}`, num(h.limit), `${field}.limit`);
      // Reserved pages are limited alike where the kernel accounts them (5.7+).
      this.add(where, `hugetlb.${h.pageSize}.${rsvdFile}`, num(h.limit), `${field}.limit`, { ifExists: true });
    });
  }

  network(r: NonNullable<Resources['network']>): void {
    const field = `${FIELD}.network`;
    if (set(r.classID)) {
      const where = target(this.layout, 'net_cls', `${field}.classID`);
      if (where === UNIFIED) unsupportedOnV2(`${field}.classID`);
      this.add(where, 'net_cls.classid', num(r.classID), `${field}.classID`);
    }
    (r.priorities ?? []).forEach((p, i) => {
      const where = target(this.layout, 'net_prio', `${field}.priorities`);
      if (where === UNIFIED) unsupportedOnV2(`${field}.priorities`);
      this.add(where, 'net_prio.ifpriomap', `${p.name} ${p.priority}`, `${field}.priorities[${i}]`);
    });
  }

  rdma(r: NonNullable<Resources['rdma']>): void {
    for (const [device, limit] of Object.entries(r)) {
      const field = `${FIELD}.rdma[${JSON.stringify(device)}]`;
      const parts = [device];
      if (set(limit.hcaHandles)) parts.push(`hca_handle=${num(limit.hcaHandles)}`);
      if (set(limit.hcaObjects)) parts.push(`hca_object=${num(limit.hcaObjects)}`);
      if (parts.length === 1) continue;
      this.add(target(this.layout, 'rdma', field), 'rdma.max', parts.join(' '), field);
    }
  }

  devices(rules: DeviceRule[]): void {
    const field = `${FIELD}.devices`;
    if (this.layout.kind !== 'v2' && this.layout.v1['devices']) {
      // Start from nothing, then apply the rules in order: later rules win.
      this.add('devices', 'devices.deny', 'a', field);
      rules.forEach((rule, i) => this.add('devices', rule.allow ? 'devices.allow' : 'devices.deny', deviceRuleLine(rule), `${field}[${i}]`));
    } else if (this.layout.unified) {
      this.bpfDevices = rules;
    } else {
      throw new BerthError(`${field}: no devices cgroup controller and no cgroup2 hierarchy on this host`);
    }
  }

  unified(map: Record<string, string>): void {
    const base = `${FIELD}.unified`;
    if (!this.layout.unified) throw new BerthError(`${base}: needs cgroup v2, and this host has cgroup v1 only`);
    for (const [key, value] of Object.entries(map)) {
      const field = `${base}[${JSON.stringify(key)}]`;
      if (key.includes('/') || key.includes('\0') || key === '.' || key === '..' || !key.includes('.')) {
        throw new BerthError(`${field}: not a cgroup file name (controller.setting)`);
      }
      const controller = key.slice(0, key.indexOf('.'));
      if (controller !== 'cgroup' && !this.layout.unifiedControllers.includes(controller)) {
        throw new BerthError(`${field}: the ${controller} controller is not available on the cgroup2 hierarchy`);
      }
      this.add(UNIFIED, key, value, field);
    }
  }
}

/** The kernel's spelling of a device rule: `c 1:3 rwm`, `a *:* rwm`. */
export function deviceRuleLine(rule: DeviceRule): string {
  const type = rule.type ?? 'a';
  const id = (n: number | null | undefined) => (n === undefined || n === null || n < 0 ? '*' : String(n));
  return `${type} ${id(rule.major)}:${id(rule.minor)} ${rule.access || 'rwm'}`;
}

/** Every file write (and device program) that applies `resources` on `layout`. */
export function planCgroup(resources: Resources, layout: Layout, options: PlanOptions = {}): CgroupPlan {
  const p = new Planner(layout, options);
  if (resources.cpu) p.cpu(resources.cpu);
  if (resources.memory) p.memory(resources.memory);
  if (resources.pids) p.pids(resources.pids);
  if (resources.blockIO) p.blockIO(resources.blockIO);
  if (resources.hugepageLimits) p.hugepages(resources.hugepageLimits);
  if (resources.network) p.network(resources.network);
  if (resources.rdma) p.rdma(resources.rdma);
  if (resources.devices) p.devices(resources.devices);
  if (resources.unified) p.unified(resources.unified);
  return { writes: p.writes, bpfDevices: p.bpfDevices, warnings: p.warnings };
}
