// process.terminal, end to end: the pty master arrives on --console-socket (create, exec)
// and what the container prints comes out of it; run in the foreground relays the pty.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH, berth } from './helpers/berth.js';
import { busyboxBundle } from './helpers/busybox-bundle.js';
import { tempRoot, uniqueId } from './helpers/state.js';

// Node cannot receive SCM_RIGHTS: the engine's side of --console-socket is played by
// python3. It prints the name that came with the fd, then everything read from the
// master until the pty's last slave closes (EIO) or 20 s pass.
const RECEIVER = `
import json, os, select, socket, sys, time
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(sys.argv[1])
server.listen(1)
print('ready', flush=True)
conn, _ = server.accept()
name, fds, _, _ = socket.recv_fds(conn, 1024, 1)
output = b''
deadline = time.time() + 20
while fds and time.time() < deadline:
    ready, _, _ = select.select([fds[0]], [], [], 0.5)
    if not ready:
        continue
    try:
        chunk = os.read(fds[0], 4096)
    except OSError:
        break
    if not chunk:
        break
    output += chunk
print(json.dumps({'name': name.decode(), 'fds': len(fds), 'output': output.decode(errors='replace')}), flush=True)
`;

interface Received {
  name: string;
  fds: number;
  output: string;
}

/** A console socket in a fresh directory, and what arrives on it. */
async function consoleSocket(t: Test): Promise<{ path: string; received: Promise<Received> }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-console-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'receiver.py');
  writeFileSync(script, RECEIVER);
  const path = join(dir, 'console.sock');
  const receiver = spawn('python3', [script, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => {
    receiver.kill('SIGKILL');
  });
  let text = '';
  const lines = new Promise<string[]>((resolve) => {
    receiver.stdout.on('data', (chunk) => {
      text += chunk;
      if (text.includes('\n')) resolve(text.split('\n'));
    });
  });
  if ((await lines)[0] !== 'ready') throw new Error(`the receiver did not start: ${text}`);
  const received = new Promise<Received>((resolve, reject) => {
    receiver.on('exit', () => {
      const last = text.trim().split('\n').pop()!;
      try {
        resolve(JSON.parse(last) as Received);
      } catch {
        reject(new Error(`the receiver said: ${text}`));
      }
    });
  });
  return { path, received };
}

const SCRIPT = 'tty; [ -t 0 ] && echo is-a-tty; [ -t 1 ] && echo out-is-a-tty';

t.test('create --console-socket: the master arrives, the container writes to the pty', async (t) => {
  const root = tempRoot(t);
  const bundle = busyboxBundle(t, ['sh', '-c', `${SCRIPT}; ls -l /dev/console`], (c) => {
    c.process.terminal = true;
  });
  const id = uniqueId('tty');
  t.teardown(() => {
    berth(['--root', root, 'delete', '--force', id]);
  });
  const socket = await consoleSocket(t);
  const created = berth(['--root', root, 'create', '--console-socket', socket.path, '-b', bundle.dir, id], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.equal(created.status, 0, created.stderr);
  t.equal(berth(['--root', root, 'start', id]).status, 0);
  const got = await socket.received;
  t.equal(got.fds, 1, 'one fd came with the message');
  t.match(got.name, /^\/dev\/pts\/\d+$/, 'the pty is named as in the container');
  const lines = got.output.split('\r\n');
  t.equal(lines[0], got.name, "tty names the pty in the container's devpts");
  t.ok(lines.includes('is-a-tty') && lines.includes('out-is-a-tty'), got.output);
  t.match(got.output, /^c[rw-]+\s.*\s136,\s+\d+\s.*\/dev\/console\r$/m, '/dev/console is the pty (a pts device, major 136)');
});

t.test('exec -t --console-socket: the exec\'d process gets its own pty', async (t) => {
  const root = tempRoot(t);
  const bundle = busyboxBundle(t, ['sleep', '1000']);
  const id = uniqueId('ttyexec');
  t.teardown(() => {
    berth(['--root', root, 'delete', '--force', id]);
  });
  const log = openSync(join(bundle.dir, 'container.log'), 'a');
  t.equal(berth(['--root', root, 'run', '-d', '-b', bundle.dir, id], { stdio: ['ignore', log, log] }).status, 0);
  closeSync(log);

  const socket = await consoleSocket(t);
  const r = berth(['--root', root, 'exec', '-t', '--console-socket', socket.path, id, 'sh', '-c', `${SCRIPT}; echo fds: $(ls /proc/self/fd); exit 3`]);
  t.equal(r.status, 3, `the status is the process's: ${r.stderr}`);
  const got = await socket.received;
  t.equal(got.fds, 1);
  t.ok(got.output.split('\r\n').includes('is-a-tty'), got.output);
  t.match(got.output, /^\/dev\/pts\/\d+\r\n/);
  t.match(got.output, /^fds: 0 1 2 3\r$/m, "the pty master the child parked for berth does not reach the process (3 is ls's own)");
  t.equal(r.stdout, '', "nothing reaches berth's own stdout");
});

t.test('process.consoleSize sets the window of the pty (exec --process with a terminal)', async (t) => {
  const root = tempRoot(t);
  const bundle = busyboxBundle(t, ['sleep', '1000']);
  symlinkSync('busybox', join(bundle.rootfs, 'bin', 'stty'));
  const id = uniqueId('ttysize');
  t.teardown(() => {
    berth(['--root', root, 'delete', '--force', id]);
  });
  const log = openSync(join(bundle.dir, 'container.log'), 'a');
  t.equal(berth(['--root', root, 'run', '-d', '-b', bundle.dir, id], { stdio: ['ignore', log, log] }).status, 0);
  closeSync(log);
  const processFile = join(bundle.dir, 'process.json');
  writeFileSync(processFile, JSON.stringify({ terminal: true, consoleSize: { height: 33, width: 111 }, args: ['stty', 'size'], cwd: '/', env: ['PATH=/bin'] }));
  const socket = await consoleSocket(t);
  const r = berth(['--root', root, 'exec', '--process', processFile, '--console-socket', socket.path, '--detach', id], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.equal(r.status, 0, r.stderr);
  t.equal((await socket.received).output, '33 111\r\n');
});

t.test('run in the foreground relays the terminal through its own stdio', async (t) => {
  const root = tempRoot(t);
  const bundle = busyboxBundle(t, ['sh', '-c', `${SCRIPT}; read line; echo "got $line"; exit 4`], (c) => {
    c.process.terminal = true;
  });
  const id = uniqueId('ttyrun');
  t.teardown(() => {
    berth(['--root', root, 'delete', '--force', id]);
  });
  const run = spawn(process.execPath, [BERTH, '--root', root, 'run', '-b', bundle.dir, id], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let asked = false;
  run.stderr.on('data', (d) => (err += d));
  run.stdout.on('data', (d) => {
    out += d;
    // Answer once the script waits for its line (typed earlier, the pty would echo it first).
    if (!asked && out.includes('out-is-a-tty')) {
      asked = true;
      run.stdin.write('hello\n');
    }
  });
  const status = await new Promise<number | null>((resolve) => run.on('exit', (code) => resolve(code)));
  t.equal(status, 4, err);
  t.match(out, /^\/dev\/pts\/\d+\r\n/);
  t.match(out, /is-a-tty\r\nout-is-a-tty\r\n/);
  t.match(out, /hello\r\ngot hello\r\n/, 'stdin reaches the process through the pty (and the pty echoes it)');
});

t.test('refusals: a terminal nobody can reach, a socket without a terminal', async (t) => {
  const root = tempRoot(t);
  const withTty = busyboxBundle(t, ['true'], (c) => {
    c.process.terminal = true;
  });
  const id = uniqueId('ttybad');
  t.teardown(() => {
    berth(['--root', root, 'delete', '--force', id]);
  });
  const create = berth(['--root', root, 'create', '-b', withTty.dir, id]);
  t.not(create.status, 0);
  t.match(create.stderr, /process\.terminal: .*--console-socket/);
  t.notOk(existsSync(join(root, id)), 'no state is left behind');
  const detached = berth(['--root', root, 'run', '-d', '-b', withTty.dir, id]);
  t.match(detached.stderr, /--console-socket/);
  t.notOk(existsSync(join(root, id)));

  const plain = busyboxBundle(t, ['true']);
  const socketless = berth(['--root', root, 'create', '--console-socket', join(plain.dir, 'none.sock'), '-b', plain.dir, id]);
  t.not(socketless.status, 0);
  t.match(socketless.stderr, /--console-socket: only for a process with a terminal/);
  t.notOk(existsSync(join(root, id)));

  const unreachable = berth(['--root', root, 'create', '--console-socket', join(withTty.dir, 'none.sock'), '-b', withTty.dir, id]);
  t.not(unreachable.status, 0);
  t.match(unreachable.stderr, /--console-socket: connect\(.*\): ENOENT/);
  t.notOk(existsSync(join(root, id)), 'a failed hand-over removes the container');
  t.equal(readFileSync('/proc/self/mountinfo', 'utf8').includes(withTty.rootfs), false, 'and leaves no mount');
});
