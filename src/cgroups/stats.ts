// A container's resource usage in the shape of runc's `events --stats` data (runc's
// types/events.go field names), read from v1 controller files or cgroup2 ones.
import { readdirSync } from 'node:fs';
import { parseKeyValues, tryRead } from './fsutil.js';
import type { Layout } from './layout.js';
import { UNIFIED, type CgroupPaths } from './types.js';

export interface MemoryEntry {
  limit: number;
  usage?: number;
  max?: number;
  failcnt: number;
}

export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

export interface Stats {
  cpu: {
    usage: { total: number; percpu?: number[]; percpu_kernel?: number[]; percpu_user?: number[]; kernel: number; user: number };
    throttling: { periods?: number; throttled_periods?: number; throttled_time?: number };
  };
  memory: { cache?: number; usage: MemoryEntry; swap: MemoryEntry; kernel: MemoryEntry; kernelTCP: MemoryEntry; raw?: Record<string, number> };
  pids: { current?: number; limit?: number };
  blkio: { ioServiceBytesRecursive?: BlkioEntry[]; ioServicedRecursive?: BlkioEntry[] };
  hugetlb: Record<string, { usage?: number; max?: number; failcnt: number }>;
}

/** USER_HZ: cpuacct.stat counts in clock ticks, runc reports nanoseconds. */
const TICK_NS = 10_000_000;

/** A number file; "max" (no limit) reads as 0, as runc reports it. */
function numberIn(dir: string | undefined, file: string): number | undefined {
  if (!dir) return undefined;
  const text = tryRead(dir, file);
  if (text === undefined) return undefined;
  return text === 'max' ? 0 : Number(text);
}

function numbers(text: string | undefined): number[] | undefined {
  return text === undefined ? undefined : text.split(/\s+/).filter(Boolean).map(Number);
}

function cpuV1(cpu: string | undefined, cpuacct: string | undefined): Stats['cpu'] {
  const ticks = parseKeyValues(cpuacct ? tryRead(cpuacct, 'cpuacct.stat') : undefined);
  const throttle = parseKeyValues(cpu ? tryRead(cpu, 'cpu.stat') : undefined);
  return {
    usage: {
      total: numberIn(cpuacct, 'cpuacct.usage') ?? 0,
      percpu: numbers(cpuacct ? tryRead(cpuacct, 'cpuacct.usage_percpu') : undefined),
      percpu_kernel: numbers(cpuacct ? tryRead(cpuacct, 'cpuacct.usage_percpu_sys') : undefined),
      percpu_user: numbers(cpuacct ? tryRead(cpuacct, 'cpuacct.usage_percpu_user') : undefined),
      kernel: (ticks['system'] ?? 0) * TICK_NS,
      user: (ticks['user'] ?? 0) * TICK_NS,
    },
    throttling: { periods: throttle['nr_periods'], throttled_periods: throttle['nr_throttled'], throttled_time: throttle['throttled_time'] },
  };
}

function cpuV2(dir: string): Stats['cpu'] {
  const s = parseKeyValues(tryRead(dir, 'cpu.stat'));
  return {
    usage: { total: (s['usage_usec'] ?? 0) * 1000, kernel: (s['system_usec'] ?? 0) * 1000, user: (s['user_usec'] ?? 0) * 1000 },
    throttling: { periods: s['nr_periods'], throttled_periods: s['nr_throttled'], throttled_time: s['throttled_usec'] === undefined ? undefined : s['throttled_usec'] * 1000 },
  };
}

function memoryEntryV1(dir: string | undefined, prefix: string): MemoryEntry {
  return {
    limit: numberIn(dir, `${prefix}.limit_in_bytes`) ?? 0,
    usage: numberIn(dir, `${prefix}.usage_in_bytes`),
    max: numberIn(dir, `${prefix}.max_usage_in_bytes`),
    failcnt: numberIn(dir, `${prefix}.failcnt`) ?? 0,
  };
}

function memoryV1(dir: string | undefined): Stats['memory'] {
  const raw = parseKeyValues(dir ? tryRead(dir, 'memory.stat') : undefined);
  return {
    cache: raw['total_cache'] ?? raw['cache'],
    usage: memoryEntryV1(dir, 'memory'),
    swap: memoryEntryV1(dir, 'memory.memsw'),
    kernel: memoryEntryV1(dir, 'memory.kmem'),
    kernelTCP: memoryEntryV1(dir, 'memory.kmem.tcp'),
    raw,
  };
}

function memoryV2(dir: string): Stats['memory'] {
  const raw = parseKeyValues(tryRead(dir, 'memory.stat'));
  const events = parseKeyValues(tryRead(dir, 'memory.events'));
  return {
    cache: raw['file'],
    usage: { limit: numberIn(dir, 'memory.max') ?? 0, usage: numberIn(dir, 'memory.current'), max: numberIn(dir, 'memory.peak'), failcnt: events['max'] ?? 0 },
    swap: { limit: numberIn(dir, 'memory.swap.max') ?? 0, usage: numberIn(dir, 'memory.swap.current'), failcnt: 0 },
    kernel: { limit: 0, usage: raw['kernel'], failcnt: 0 },
    kernelTCP: { limit: 0, usage: raw['sock'], failcnt: 0 },
    raw,
  };
}

/** blkio.throttle.io_service_bytes_recursive: "8:0 Read 4096" lines (and a Total line). */
function blkioEntries(text: string | undefined): BlkioEntry[] | undefined {
  if (text === undefined) return undefined;
  return text.split('\n').flatMap((line) => {
    const m = /^(\d+):(\d+) (\w+) (\d+)$/.exec(line.trim());
    return m ? [{ major: Number(m[1]), minor: Number(m[2]), op: m[3]!, value: Number(m[4]) }] : [];
  });
}

function blkioV1(dir: string | undefined): Stats['blkio'] {
  if (!dir) return {};
  return {
    ioServiceBytesRecursive: blkioEntries(tryRead(dir, 'blkio.throttle.io_service_bytes_recursive')),
    ioServicedRecursive: blkioEntries(tryRead(dir, 'blkio.throttle.io_serviced_recursive')),
  };
}

/** io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 ...". */
function ioStatV2(text: string | undefined): Stats['blkio'] {
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const [dev, ...pairs] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    const kv = Object.fromEntries(pairs.map((p) => p.split('=') as [string, string]));
    const entry = (op: string, value: string | undefined) => ({ major: Number(m[1]), minor: Number(m[2]), op, value: Number(value ?? 0) });
    bytes.push(entry('Read', kv['rbytes']), entry('Write', kv['wbytes']));
    ios.push(entry('Read', kv['rios']), entry('Write', kv['wios']));
  }
  return { ioServiceBytesRecursive: bytes, ioServicedRecursive: ios };
}

function hugetlb(dir: string | undefined, v2: boolean): Stats['hugetlb'] {
  if (!dir) return {};
  const sizes = new Set<string>();
  try {
    for (const name of readdirSync(dir)) {
      const m = /^hugetlb\.(\d+[KMG]B)\./.exec(name);
      if (m) sizes.add(m[1]!);
    }
  } catch {
    return {};
  }
  const out: Stats['hugetlb'] = {};
  for (const size of sizes) {
    out[size] = v2
      ? { usage: numberIn(dir, `hugetlb.${size}.current`), failcnt: parseKeyValues(tryRead(dir, `hugetlb.${size}.events`))['max'] ?? 0 }
      : { usage: numberIn(dir, `hugetlb.${size}.usage_in_bytes`), max: numberIn(dir, `hugetlb.${size}.max_usage_in_bytes`), failcnt: numberIn(dir, `hugetlb.${size}.failcnt`) ?? 0 };
  }
  return out;
}

export function collectStats(paths: CgroupPaths, layout: Layout): Stats {
  const v1 = (c: string) => (layout.v1[c] ? paths[c] : undefined);
  const unified = paths[UNIFIED];
  const onV2 = (c: string) => !v1(c) && unified !== undefined && (layout.kind === 'v2' || layout.unifiedControllers.includes(c));
  const pidsDir = v1('pids') ?? (onV2('pids') ? unified : undefined);
  return {
    cpu: onV2('cpu') ? cpuV2(unified!) : cpuV1(v1('cpu'), v1('cpuacct')),
    memory: onV2('memory') ? memoryV2(unified!) : memoryV1(v1('memory')),
    pids: { current: numberIn(pidsDir, 'pids.current'), limit: numberIn(pidsDir, 'pids.max') },
    blkio: onV2('io') ? ioStatV2(tryRead(unified!, 'io.stat')) : blkioV1(v1('blkio')),
    hugetlb: v1('hugetlb') ? hugetlb(v1('hugetlb'), false) : onV2('hugetlb') ? hugetlb(unified, true) : {},
  };
}
