/**
 * Runs an IMAP server unpacked from Debian packages (scripts/install-test-servers.sh) at its
 * compiled-in paths, without installing it: inside a private mount + PID namespace.
 *
 * Inside the namespace (set up by a bash launcher that is the namespace's PID 1):
 * - `/usr` is an overlay with the unpacked tree's `usr` on top of the real one;
 * - `/etc` is an overlay: the instance's own `etc` folder, then the tree's `etc`, then the real
 *   `/etc`, with a writable upper layer in the instance folder (so `makeuserdb` can write);
 * - `/run` is an empty tmpfs;
 * - `/dev` is a tmpfs with the few device nodes a daemon uses and a syslog sink on `/dev/log`
 *   (a Perl unix-datagram reader) that appends every message to `syslog.log` in the instance
 *   folder: Cyrus logs only to syslog.
 * Only mounts and PIDs are private: the network namespace is the host's, so the server listens on
 * 127.0.0.1 where the tests connect.
 *
 * How it ends (never leaving a process behind):
 * - PID 1 of the namespace is the launcher. When it exits, the kernel kills every process in the
 *   namespace and `unshare` (its parent) only reaps it once all of them are gone.
 * - The launcher's last act is to block reading its stdin, a pipe from this process. When this
 *   process ends for any reason (normal exit, SIGTERM, SIGKILL) the pipe closes and it exits.
 * - Belt and braces: `unshare` runs under `setpriv --pdeathsig KILL` and with `--kill-child`, so
 *   the death of this process kills `unshare`, which kills the launcher.
 *   (Not the server itself: a daemon that switches to another uid loses its parent-death signal.)
 * - `stop()` SIGKILLs the launcher and waits for `unshare` to exit, which is when the namespace is
 *   empty. The instance folder is removed afterwards.
 */
import { sweepStaleDirs } from './stale-dirs.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, existsSync, fstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where scripts/install-test-servers.sh unpacks the packages. */
export const TEST_SERVERS_ROOT = process.env.MAILFERRY_TEST_SERVERS ?? '/opt/mailferry-test-servers';
export const INSTALL_COMMAND = 'bash scripts/install-test-servers.sh';

/** The unprivileged user mail files and server processes belong to (Debian's `nobody`). */
export const MAIL_UID = 65534;
export const MAIL_GID = 65534;

/** How long a server gets to greet before start fails. */
export const STARTUP_TIMEOUT_MS = 15_000;
/** How long `stop` waits for the namespace to be empty. */
const STOP_TIMEOUT_MS = 10_000;
const POLL_INTERVAL_MS = 20;
/** How long one greeting probe waits for the `* OK` line. */
const GREETING_PROBE_TIMEOUT_MS = 1_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The launcher: PID 1 of the namespace. $1 = unpacked tree, $2 = instance folder. It sources
 * `start.sh` from the instance folder, which must start the server in the background and return.
 */
const LAUNCHER = String.raw`set -eu
tree="$1"; dir="$2"
mount -t overlay overlay -o "lowerdir=$tree/usr:/usr" /usr
mount -t overlay overlay -o "lowerdir=$dir/etc:$tree/etc:/etc,upperdir=$dir/ns/etc-upper,workdir=$dir/ns/etc-work" /etc
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=755 tmpfs /dev
mknod -m 666 /dev/null c 1 3; mknod -m 666 /dev/zero c 1 5; mknod -m 666 /dev/full c 1 7
mknod -m 666 /dev/random c 1 8; mknod -m 666 /dev/urandom c 1 9; mknod -m 666 /dev/tty c 5 0
ln -s /proc/self/fd /dev/fd; ln -s /proc/self/fd/0 /dev/stdin; ln -s /proc/self/fd/1 /dev/stdout; ln -s /proc/self/fd/2 /dev/stderr
mkdir /dev/shm; mount -t tmpfs -o mode=1777 tmpfs /dev/shm
perl "$dir/syslog-sink.pl" /dev/log "$dir/syslog.log" </dev/null &
i=0; while [ ! -S /dev/log ]; do i=$((i+1)); [ $i -lt 250 ] || { echo "syslog sink did not start" >&2; exit 1; }; sleep 0.02; done
. "$dir/start.sh"
echo "namespace-launcher: started"
# Block until the test process closes our stdin (or dies); returning ends the namespace.
read -r _ignored || true
`;

/** Appends each datagram on the socket as one line: `<PRI>Mon DD HH:MM:SS ident[pid]: text`. */
const SYSLOG_SINK = String.raw`use strict; use IO::Socket::UNIX; use Socket;
my ($path, $out) = @ARGV;
unlink $path;
my $sock = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $path) or die "syslog sink: bind $path: $!";
chmod 0666, $path;
open(my $fh, '>>', $out) or die "syslog sink: open $out: $!";
$fh->autoflush(1);
while (1) { my $msg; defined($sock->recv($msg, 65536)) or next; $msg =~ s/\0+$//; $msg =~ s/\n*$/\n/; print $fh $msg; }
`;

export interface NamespacedServerOptions {
  /** For messages: `cyrus`, `courier`. */
  label: string;
  /** The unpacked package tree (with `usr/` and `etc/`). */
  tree: string;
  /** Prefix of the instance folder's name under the temp folder. */
  dirPrefix: string;
}

export interface NamespacedInstance {
  /** The instance folder: put `etc/...` files and `start.sh` here before `launch`. Mode 755. */
  readonly dir: string;
  /** Starts the namespace and sources `start.sh`; resolves once `port` greets with `* OK`. */
  launch(port: number): Promise<string>;
  /** The launcher's own output (stdout + stderr of everything it started) and the syslog messages. */
  logs(): string;
  /** `pid:[inode]` of the instance's PID namespace, to look for its processes in /proc. */
  readonly pidNamespace: string | undefined;
  readonly isRunning: boolean;
  /** SIGKILLs everything in the namespace, waits until it is empty, removes the folder. */
  stop(): Promise<void>;
}

interface LiveInstance {
  launcherPid: () => number | undefined;
  stdin: ChildProcess['stdin'];
}
const liveInstances = new Set<LiveInstance>();
const ownDirs = new Set<string>();
let exitHookInstalled = false;

const installExitHook = (): void => {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const instance of liveInstances) {
      const pid = instance.launcherPid();
      if (pid !== undefined) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      instance.stdin?.destroy();
    }
    liveInstances.clear();
    if (!process.env.MAILFERRY_KEEP_TEST_SERVERS) for (const dir of ownDirs) rmSync(dir, { recursive: true, force: true });
  });
};

const sweptPrefixes = new Set<string>();

/** Sweeps each prefix's leftover folders once per process. */
const sweepStaleDirsOnce = (prefix: string): void => {
  if (sweptPrefixes.has(prefix) || process.env.MAILFERRY_KEEP_TEST_SERVERS) return;
  sweptPrefixes.add(prefix);
  sweepStaleDirs(prefix);
};

/** Throws with the install command when the unpacked tree (or a tool the launcher needs) is missing. */
export const requireTree = (label: string, tree: string, probe: string): void => {
  if (!existsSync(join(tree, probe))) {
    throw new Error(`${label} is not unpacked (${join(tree, probe)} missing). Install it with: ${INSTALL_COMMAND}` + (process.env.CI ? ' (CI: .ci/run runs it)' : ''));
  }
  for (const tool of ['/usr/bin/unshare', '/usr/bin/setpriv', '/usr/bin/perl']) {
    if (!existsSync(tool)) throw new Error(`${tool} is missing (util-linux / perl); ${INSTALL_COMMAND} installs what it needs`);
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error(`test/support/server-namespace.ts needs root (mount namespaces; the ${label} processes switch to uid ${MAIL_UID})`);
  }
};

/** A free TCP port on 127.0.0.1 (bound to port 0 and released). */
export const findFreePort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not find a free port');
  return address.port;
};

/** The greeting line once `port` accepts a connection and sends a line starting `* OK`, else undefined. */
const greeting = (port: number): Promise<string | undefined> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    const done = (line: string | undefined): void => {
      socket.destroy();
      resolve(line);
    };
    socket.setTimeout(GREETING_PROBE_TIMEOUT_MS, () => done(undefined));
    socket.on('error', () => done(undefined));
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      const eol = data.indexOf('\r\n');
      if (eol >= 0) done(data.startsWith('* OK') ? data.slice(0, eol) : undefined);
    });
  });

/** Host PID of the first child of `pid` (unshare's forked launcher), from /proc. */
const firstChild = (pid: number): number | undefined => {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').trim();
    const first = children.split(' ')[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
};

/** Host PIDs of the live (non-zombie) processes in a PID namespace (`pid:[inode]`). */
export const processesInPidNamespace = (pidNamespace: string): number[] => {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/pid`) !== pidNamespace) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      const state = stat.slice(stat.lastIndexOf(')') + 2)[0];
      if (state !== 'Z' && state !== 'X') pids.push(Number(entry));
    } catch {
      // ended meanwhile
    }
  }
  return pids;
};

/** Creates the instance folder; the caller fills it, then calls `launch`. */
export const createNamespacedInstance = (options: NamespacedServerOptions): NamespacedInstance => {
  installExitHook();
  sweepStaleDirsOnce(options.dirPrefix);
  const dir = mkdtempSync(join(tmpdir(), options.dirPrefix));
  ownDirs.add(dir);
  // Server processes run as uid 65534 and must traverse to their data.
  chmodSync(dir, 0o755);
  for (const sub of ['etc', 'ns/etc-upper', 'ns/etc-work']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'launcher.sh'), LAUNCHER);
  writeFileSync(join(dir, 'syslog-sink.pl'), SYSLOG_SINK);
  const consolePath = join(dir, 'console.log');
  const syslogPath = join(dir, 'syslog.log');

  let child: ChildProcess | undefined;
  let launcherPid: number | undefined;
  let pidNamespace: string | undefined;
  let exited: Promise<void> = Promise.resolve();
  let isExited = true;
  let removed = false;
  const live: LiveInstance = { launcherPid: () => launcherPid, stdin: null };

  const read = (path: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return '';
    }
  };
  const logs = (): string => `--- ${options.label} console ---\n${read(consolePath)}--- ${options.label} syslog ---\n${read(syslogPath)}`;

  const kill = async (): Promise<void> => {
    if (!child) return;
    // The launcher may not be known yet if start failed very early: then kill unshare, whose
    // --kill-child takes the launcher with it.
    const target = launcherPid ?? firstChild(child.pid as number) ?? child.pid;
    try {
      if (target !== undefined) process.kill(target, 'SIGKILL');
    } catch {
      // already gone
    }
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (!isExited && Date.now() < deadline) await sleep(POLL_INTERVAL_MS);
    if (!isExited) throw new Error(`${options.label}: namespace launcher ${target} still running ${STOP_TIMEOUT_MS} ms after SIGKILL`);
    await exited;
    child.stdin?.destroy();
    liveInstances.delete(live);
    child = undefined;
    launcherPid = undefined;
  };

  const instance: NamespacedInstance = {
    dir,
    get pidNamespace() {
      return pidNamespace;
    },
    get isRunning() {
      return child !== undefined && !isExited;
    },
    logs,
    async launch(port) {
      if (child) throw new Error(`${options.label}: already running`);
      const consoleFd = openSync(consolePath, 'a');
      const proc = spawn(
        '/usr/bin/setpriv',
        ['--pdeathsig', 'KILL', '--', '/usr/bin/unshare', '--mount', '--propagation', 'private', '--pid', '--fork', '--mount-proc', '--kill-child=SIGKILL', '/bin/bash', join(dir, 'launcher.sh'), options.tree, dir],
        { stdio: ['pipe', consoleFd, consoleFd], cwd: dir, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' } },
      );
      closeSync(consoleFd);
      if (proc.pid === undefined) throw new Error(`${options.label}: could not spawn unshare`);
      child = proc;
      live.stdin = proc.stdin;
      liveInstances.add(live);
      isExited = false;
      exited = new Promise((resolve) => proc.once('exit', () => {
        isExited = true;
        resolve();
      }));
      // Neither the child nor its pipe may keep a test process alive: the pipe closing is the signal.
      proc.unref();
      (proc.stdin as unknown as { unref?: () => void } | null)?.unref?.();
      proc.stdin?.on('error', () => undefined);

      const deadline = Date.now() + STARTUP_TIMEOUT_MS;
      while (Date.now() < deadline && !isExited) {
        launcherPid ??= firstChild(proc.pid);
        if (launcherPid !== undefined && pidNamespace === undefined) {
          try {
            pidNamespace = readlinkSync(`/proc/${launcherPid}/ns/pid`);
          } catch {
            // not yet
          }
        }
        if (read(consolePath).includes('namespace-launcher: started')) {
          const line = await greeting(port);
          if (line !== undefined) return line;
        }
        await sleep(POLL_INTERVAL_MS);
      }
      const why = isExited ? 'its launcher exited' : `no greeting within ${STARTUP_TIMEOUT_MS} ms`;
      await kill().catch(() => undefined);
      throw new Error(`${options.label} did not start on 127.0.0.1:${port} (${why}):\n${logs()}`);
    },
    async stop() {
      await kill();
      if (!removed && !process.env.MAILFERRY_KEEP_TEST_SERVERS) {
        removed = true;
        rmSync(dir, { recursive: true, force: true });
        ownDirs.delete(dir);
      }
    },
  };
  return instance;
};

/**
 * Holds a PID namespace open (its `ns/pid` file, through one of its processes) until `close()`.
 * `pid:[inode]` names the namespace only while it exists: once its last process is gone the kernel
 * gives the lowest free number to the next namespace created on the machine (say, the server test
 * file CI runs alongside), and processesInPidNamespace would list that one's processes.
 */
export const pinPidNamespace = (namespace: string): { close: () => void } => {
  for (const pid of processesInPidNamespace(namespace)) {
    try {
      const fd = openSync(`/proc/${pid}/ns/pid`, 'r');
      if (`pid:[${fstatSync(fd).ino}]` === namespace) return { close: () => closeSync(fd) };
      closeSync(fd);
    } catch {
      // ended meanwhile
    }
  }
  throw new Error(`no live process of ${namespace} to pin it by`);
};
