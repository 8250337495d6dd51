// The pure parts of the cgroup commands: runc's size and duration syntax, the update
// flags -> LinuxResources mapping, and ps output filtering.
import t from 'tap';
import { parseDuration } from '../src/commands/events.js';
import { filterPsOutput } from '../src/commands/ps.js';
import { parseBytes, resourcesFromArgs } from '../src/commands/update.js';

t.test('sizes as runc (docker units) reads them', async (t) => {
  t.equal(parseBytes('memory', '1024'), 1024);
  t.equal(parseBytes('memory', '512k'), 512 * 1024);
  t.equal(parseBytes('memory', '100m'), 100 * 2 ** 20);
  t.equal(parseBytes('memory', '1.5g'), 1.5 * 2 ** 30);
  t.equal(parseBytes('memory', '2GiB'), 2 * 2 ** 30);
  t.equal(parseBytes('memory-swap', '-1'), -1);
  t.throws(() => parseBytes('memory', '-5m'), { name: 'BerthError', message: '--memory: "-5m" is not a size (like 512m or 1g)' });
});

t.test('durations as Go writes them', async (t) => {
  t.equal(parseDuration('5s'), 5000);
  t.equal(parseDuration('100ms'), 100);
  t.equal(parseDuration('1m30s'), 90_000);
  t.throws(() => parseDuration('5'), { name: 'BerthError' });
  t.throws(() => parseDuration('0s'), { name: 'BerthError', message: /more than zero/ });
});

t.test('update flags map onto LinuxResources, over the -r document', async (t) => {
  t.same(
    resourcesFromArgs({ memory: '1g', memorySwap: '-1', memoryReservation: '512m', cpuShare: '512', cpuQuota: '-1', cpuPeriod: '100000', cpuRtRuntime: '1000', cpuRtPeriod: '10000', cpusetCpus: '0-1', cpusetMems: '0', pidsLimit: '100', blkioWeight: '300' }),
    {
      memory: { limit: 2 ** 30, swap: -1, reservation: 2 ** 29 },
      cpu: { shares: 512, quota: -1, period: 100000, realtimeRuntime: 1000, realtimePeriod: 10000, cpus: '0-1', mems: '0' },
      pids: { limit: 100 },
      blockIO: { weight: 300 },
    },
  );
  const base = { memory: { limit: 1, swappiness: 5 }, pids: { limit: 1 } };
  t.same(resourcesFromArgs({ memory: '2m' }, base), { memory: { limit: 2 * 2 ** 20, swappiness: 5 }, pids: { limit: 1 } });
  t.same(base.memory.limit, 1, 'the document itself is not changed');
  t.throws(() => resourcesFromArgs({ blkioWeight: '5' }), { message: '--blkio-weight: 5 is outside 10-1000' });
  t.throws(() => resourcesFromArgs({ cpuQuota: '1.5' }), { message: '--cpu-quota: "1.5" is not an integer' });
});

t.test('ps output keeps the header and the given pids, whatever the PID column', async (t) => {
  const out = 'UID          PID    PPID  C STIME TTY          TIME CMD\nroot           1       0  0 10:00 ?        00:00:01 init\nroot          42       1  0 10:00 ?        00:00:00 sleep 100\nroot         420       1  0 10:00 ?        00:00:00 other\n';
  t.equal(filterPsOutput(out, new Set([42])), 'UID          PID    PPID  C STIME TTY          TIME CMD\nroot          42       1  0 10:00 ?        00:00:00 sleep 100\n');
  t.equal(filterPsOutput('  PID CMD\n   42 x\n    1 y\n', new Set([42])), '  PID CMD\n   42 x\n');
  t.throws(() => filterPsOutput('CMD\nx\n', new Set([1])), { name: 'BerthError', message: /no PID column/ });
});
