# Process plumbing for bench/run: one server + one client, pinned (server on
# CPU 0, client on CPU 1), either our stack (two processes, each with its own
# mtcp.conf) or the -kernel build. Where they meet is a Net: an shm link and
# 127.0.0.1 (ShmNet), a veth pair between two namespaces, ours over AF_XDP
# and Linux over the same veth (VethNet), or shm and a private namespace's
# loopback whose sysctls we may change (LoNet).
import ctypes, glob, json, os, re, resource, signal, subprocess, tempfile, threading, time

SERVER_CPU, CLIENT_CPU = 0, 1
SERVER_IP, CLIENT_IP = "10.0.0.1", "10.0.0.2"   # our stacks (shm and AF_XDP)
KERN_SERVER_IP, KERN_CLIENT_IP = "10.0.1.1", "10.0.1.2"   # Linux on the veth pair
NS_PREFIX = "mvbench"   # namespaces: mvbench<pid><tag>; interfaces mvb<pid>s0, mvb<pid>c0


class CellError(Exception):
    """The cell cannot produce a number; the message becomes "n/a (...)"."""


NOFILE = 600000   # 250K connections need 250K descriptors per process (Linux)


def _raise_nofile():
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))
    except (ValueError, OSError):
        # no CAP_SYS_RESOURCE (this VM's root lacks it): up to the hard limit
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass


def nofile_limit():
    """Descriptors one of our child processes may open (see _raise_nofile)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, NOFILE))
        return NOFILE
    except (ValueError, OSError):
        return hard if hard != resource.RLIM_INFINITY else NOFILE


def sh(cmd, timeout=20):
    """Runs a set-up command; CellError with its output when it fails."""
    r = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise CellError("%s: %s" % (cmd.split(";")[0][:60], (r.stdout + r.stderr).strip()[-120:]))
    return r.stdout


def is_root():
    return os.geteuid() == 0


# ------------------------------------------------------------ networks
class ShmNet:
    """Ours on the two ends of one shm link; Linux over 127.0.0.1."""
    name = "shm"

    def server_ip(self, stack):
        return SERVER_IP if stack == "ours" else "127.0.0.1"

    def prefix(self, role, stack):
        return []

    def port(self, role, link):
        return "shm:" + link

    def close(self):
        pass


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def sweep_stale_namespaces():
    """Deletes mvb<pid>* namespaces left by a bench run that was killed
    (SIGKILL skips our cleanup); namespaces of live runs stay."""
    try:
        names = os.listdir("/run/netns")
    except OSError:
        return
    for n in names:
        m = re.match(r"%s(\d+)[a-z]+$" % NS_PREFIX, n)
        if m and not _pid_alive(int(m.group(1))):
            subprocess.call(["ip", "netns", "del", n], stderr=subprocess.DEVNULL)


class _Namespaces:
    def __init__(self, tags):
        self.ns = {t: "%s%d%s" % (NS_PREFIX, os.getpid(), t) for t in tags}
        self.made = []

    def add(self, tag):
        name = self.ns[tag]
        self.made.append(name)
        # no IPv6: router solicitations and DAD would reach our AF_XDP ports
        sh("ip netns add %s && ip -n %s link set lo up && ip netns exec %s sysctl -qw "
           "net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1" % (name, name, name))
        return name

    def close(self):
        for n in self.made:
            subprocess.call(["ip", "netns", "del", n], stderr=subprocess.DEVNULL)
        self.made = []


class VethNet(_Namespaces):
    """Namespaces <pfx>s (server) and <pfx>c (client) joined by one veth pair
    (one queue each: one stack core per side). Ours opens the ends as
    `afxdp:` ports with 10.0.0.1/2 (not configured in the kernel); Linux uses
    the same ends with 10.0.1.1/2 (tcp_tw_reuse = 1, as the host has for
    loopback). Only one of them runs at a time: our
    XDP program redirects every frame of queue 0 to our socket while it is
    attached, and it is gone when our process exits. Linux keeps the veth
    defaults (TSO/GSO on: its bulk flow crosses the pair as 64 KiB
    super-frames)."""
    name = "veth"

    def __init__(self):
        super().__init__(("s", "c"))
        self.ifname = {"server": "mvb%ds0" % os.getpid(), "client": "mvb%dc0" % os.getpid()}
        self.role_ns = {"server": self.ns["s"], "client": self.ns["c"]}
        try:
            s, c = self.add("s"), self.add("c")
            si, ci = self.ifname["server"], self.ifname["client"]
            sh("ip link add %s numtxqueues 1 numrxqueues 1 netns %s type veth peer name %s numtxqueues 1 "
               "numrxqueues 1 netns %s" % (si, s, ci, c))
            # Linux: TIME-WAIT reuse for the short-connection cell (the host
            # has tcp_tw_reuse = 2, loopback only; ours skips TIME-WAIT with
            # tcp_timewait = 0), and every ephemeral port
            for n in (s, c):
                sh("ip netns exec %s sysctl -qw net.ipv4.tcp_tw_reuse=1 "
                   "net.ipv4.ip_local_port_range='1024 65535'" % n)
            sh("ip -n %s addr add %s/24 dev %s && ip -n %s link set %s up" % (s, KERN_SERVER_IP, si, s, si))
            sh("ip -n %s addr add %s/24 dev %s && ip -n %s link set %s up" % (c, KERN_CLIENT_IP, ci, c, ci))
        except (CellError, subprocess.TimeoutExpired):
            self.close()
            raise

    def server_ip(self, stack):
        return SERVER_IP if stack == "ours" else KERN_SERVER_IP

    def prefix(self, role, stack):
        return ["ip", "netns", "exec", self.role_ns[role]]

    def port(self, role, link):
        return "afxdp:" + self.ifname[role]

    def xdp_mode(self, role):
        """'native', 'generic' (SKB mode) or None, from ip -d link while attached."""
        try:
            t = sh("ip -n %s -d link show dev %s" % (self.role_ns[role], self.ifname[role]))
        except (CellError, subprocess.TimeoutExpired):
            return None
        if "prog/xdpgeneric" in t or " xdpgeneric " in t:
            return "generic"
        if "prog/xdp " in t or " xdp " in t:
            return "native"
        return None


class LoNet(_Namespaces):
    """Ours on shm as ShmNet; Linux over the loopback of a private namespace
    whose per-namespace sysctls we size for many connections (the host's
    stay untouched): all ephemeral ports, a deep accept/SYN backlog."""
    name = "lo-netns"

    def __init__(self):
        super().__init__(("l",))
        try:
            n = self.add("l")
            sh("ip netns exec %s sysctl -qw net.ipv4.ip_local_port_range='1024 65535' net.core.somaxconn=65535 "
               "net.ipv4.tcp_max_syn_backlog=65535 net.ipv4.tcp_tw_reuse=1" % n)
        except (CellError, subprocess.TimeoutExpired):
            self.close()
            raise

    def server_ip(self, stack):
        return SERVER_IP if stack == "ours" else "127.0.0.1"

    def prefix(self, role, stack):
        return [] if stack == "ours" else ["ip", "netns", "exec", self.ns["l"]]

    def port(self, role, link):
        return "shm:" + link


# ------------------------------------------------------- measurements
SYS_pidfd_getfd = 438   # x86_64 and the generic syscall table alike
SOL_XDP, XDP_OPTIONS, XDP_OPTIONS_ZEROCOPY = 283, 8, 1


def xsk_zero_copy(pid):
    """[zero_copy?] for each AF_XDP socket of a live process: its descriptors
    are borrowed with pidfd_getfd(2) and asked getsockopt(SOL_XDP,
    XDP_OPTIONS), which only an AF_XDP socket answers. Empty if none (or
    the kernel lacks pidfd_getfd)."""
    out = []
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        pidfd = os.pidfd_open(pid)
    except (OSError, AttributeError):
        return out
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                if not os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:"):
                    continue
            except OSError:
                continue
            local = libc.syscall(SYS_pidfd_getfd, pidfd, int(fd), 0)
            if local < 0:
                continue
            opt, ln = ctypes.c_uint32(0), ctypes.c_uint32(4)
            if libc.getsockopt(local, SOL_XDP, XDP_OPTIONS, ctypes.byref(opt), ctypes.byref(ln)) == 0:
                out.append(bool(opt.value & XDP_OPTIONS_ZEROCOPY))
            os.close(local)
    finally:
        os.close(pidfd)
    return out


def task_cpu_s(pid):
    """CPU seconds so far of every thread of a live process (the scheduler's
    sum_exec_runtime, ns resolution, from /proc/PID/task/*/schedstat)."""
    t = 0
    for f in glob.glob("/proc/%d/task/*/schedstat" % pid):
        try:
            with open(f) as h:
                t += int(h.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return t / 1e9


def ksoftirqd_pids():
    if _KSOFTIRQD is None:
        ksoftirqd_cpu_s()
    return list(_KSOFTIRQD)


def _ksoftirqd_pids():
    pids = []
    for d in glob.glob("/proc/[0-9]*/comm"):
        try:
            with open(d) as f:
                if f.read().strip() in ("ksoftirqd/%d" % SERVER_CPU, "ksoftirqd/%d" % CLIENT_CPU):
                    pids.append(int(d.split("/")[2]))
        except OSError:
            pass
    return pids


_KSOFTIRQD = None
_TICK = os.sysconf("SC_CLK_TCK")


def ksoftirqd_cpu_s():
    """CPU seconds so far of ksoftirqd on our two CPUs: softirq work (packet
    receive) deferred there is charged to no process of ours."""
    global _KSOFTIRQD
    if _KSOFTIRQD is None:
        _KSOFTIRQD = _ksoftirqd_pids()
    t = 0
    for p in _KSOFTIRQD:
        try:
            with open("/proc/%d/stat" % p) as f:
                w = f.read().rsplit(")", 1)[1].split()
            t += int(w[11]) + int(w[12])   # utime, stime (fields 14, 15)
        except (OSError, IndexError, ValueError):
            pass
    return t / _TICK


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def sockstat_tcp_pages():
    """Kernel TCP socket memory (pages, machine-wide) from /proc/net/sockstat."""
    try:
        with open("/proc/net/sockstat") as f:
            for line in f:
                if line.startswith("TCP:"):
                    w = line.split()
                    return int(w[w.index("mem") + 1])
    except (OSError, ValueError):
        pass
    return 0


def last_json(text):
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return None


def tail(text, n=2):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return " | ".join(lines[-n:])[:160]


class Env:
    """Build dir, scratch dir, unique shm link names, cleanup."""

    def __init__(self, build, verbose=False):
        self.build = build
        self.tmp = tempfile.mkdtemp(prefix="mvnf_bench_")
        self.verbose = verbose
        self._n = 0
        self.links = []
        self.live = []
        self.nets = []
        self._swept = False

    def exe(self, tool, stack):
        folder = "pktgen" if tool == "pktgen" else tool
        base = os.path.join(self.build, "tools" if tool == "pktgen" else "apps", folder)
        return os.path.join(base, "mvnf-%s%s" % (tool, "-kernel" if stack == "linux" else ""))

    def link(self):
        self._n += 1
        name = "mvb%d_%d" % (os.getpid(), self._n)
        self.links.append(name)
        return name

    def conf(self, link, role, extra, net):
        path = os.path.join(self.tmp, "%s_%s.conf" % (link, role))
        me = 1 if role == "server" else 2
        cpu = SERVER_CPU if role == "server" else CLIENT_CPU
        lines = {"port": net.port(role, link), "num_cores": "1", "core_mask": hex(1 << cpu),
                 "ip_addr": "10.0.0.%d" % me, "tcp_timewait": "0",
                 "max_concurrency": "4096", "max_num_buffers": "4096"}
        lines.update(extra or {})
        with open(path, "w") as f:
            for k, v in lines.items():
                f.write("%s = %s\n" % (k, v))
        return path

    def clean_link(self, name):
        for f in glob.glob("/dev/shm/*%s*" % name):
            try:
                os.unlink(f)
            except OSError:
                pass

    def cleanup(self):
        for p in self.live:
            if p.poll() is None:
                p.kill()
                p.wait()
        for net in self.nets:
            net.close()
        self.nets = []
        for name in self.links:
            self.clean_link(name)
        subprocess.call(["rm", "-rf", self.tmp])

    def net(self, cls):
        """The one instance of a Net class for this run, created on first use
        (namespaces: root only; CellError says why not)."""
        for n in self.nets:
            if isinstance(n, cls):
                return n
        if cls is not ShmNet and not is_root():
            raise CellError("needs root (network namespaces%s)" % (", AF_XDP" if cls is VethNet else ""))
        if cls is not ShmNet and not self._swept:
            sweep_stale_namespaces()
            self._swept = True
        n = cls()
        self.nets.append(n)
        return n


def slab_kib():
    """Kernel slab memory (SReclaimable + SUnreclaim, KiB, machine-wide):
    sockets, files and epoll items of many connections land there."""
    t = 0
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("Slab:"):
                    t = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return t


class Sampler(threading.Thread):
    """Peak RSS of given pids, peak kernel TCP memory and peak slab growth
    while a run lasts (every 50 ms)."""

    def __init__(self, pids):
        super().__init__(daemon=True)
        self.pids = pids
        self.peak = {p: 0 for p in pids}
        self.sock0 = sockstat_tcp_pages()
        self.sock_peak = self.sock0
        self.slab0 = slab_kib()
        self.slab_peak = self.slab0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(0.05):
            for p in self.pids:
                self.peak[p] = max(self.peak[p], rss_kib(p))
            self.sock_peak = max(self.sock_peak, sockstat_tcp_pages())
            self.slab_peak = max(self.slab_peak, slab_kib())


def wait_rusage(p, timeout):
    """Waits for p; returns CPU seconds (user+sys) of the child, or None on timeout.
    A child already reaped (Popen.poll saw it exit on its own) gives 0."""
    if p.returncode is not None:
        return 0.0
    end = time.time() + timeout
    while time.time() < end:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            p.returncode = os.waitstatus_to_exitcode(status)
            return ru.ru_utime + ru.ru_stime
        time.sleep(0.02)
    return None


def run_pair(env, stack, tool, server_args, client_args, **kw):
    """Runs one server/client pair on net (default: shm / 127.0.0.1); returns
    a dict with both JSON summaries ("client", "server"), CPU seconds, peak
    RSS (KiB), kernel memory growth and probe(server pid)'s answer, taken
    once the server listens. See run_group."""
    r = run_group(env, stack, tool, [(server_args, client_args)], **kw)
    r["client"], r["server"] = r["clients"][0], r["servers"][0]
    r["client_text"], r["server_text"] = r["client_texts"][0], r["server_texts"][0]
    return r


def run_group(env, stack, tool, pairs, conf_extra=None, ready="listening", client_timeout=30, server_prefix=None,
              client_prefix=None, sample=False, net=None, probe=None, server_json=True, during=None):
    """Runs len(pairs) server/client pairs at once (all servers on CPU 0,
    all clients on CPU 1; several pairs when one process may not hold
    enough descriptors), each pair on its own shm link for ours.

    CPU: the clients' whole lives (getrusage), the servers' while the
    clients ran (their threads' schedstat; start-up and teardown are not
    per-op work) and ksoftirqd on the two CPUs over the same span.
    server_rss_ready_kib: the servers' RSS once listening (before any
    connection), so that peak - ready is what the connections cost.

    server_json=False: the servers' summaries are not needed, so they get
    0.5 s after SIGTERM and are then killed: our stack's teardown waits up to
    2 s for the ACK of FINs sent after the client process has gone.
    during(server pids, client pids): called once the clients run; returns
    a Popen (e.g. a profiler) waited for after the clients (10 s at most)."""
    net = net or env.net(ShmNet)
    links = [env.link() for _ in pairs]
    sps, cps, souts, couts = [], [], [], []
    try:
        for link, (server_args, client_args) in zip(links, pairs):
            sa = list(server_args) + (["-f", env.conf(link, "server", conf_extra, net)] if stack == "ours" else [])
            sout = open(os.path.join(env.tmp, link + "_server.out"), "w+")
            souts.append(sout)
            sp = subprocess.Popen(net.prefix("server", stack) + ["taskset", "-c", str(SERVER_CPU)] +
                                  (server_prefix or []) + [env.exe(tool, stack)] + sa,
                                  stdout=sout, stderr=subprocess.STDOUT, preexec_fn=_raise_nofile)
            env.live.append(sp)
            sps.append(sp)
        t0 = time.time()
        for sp, sout in zip(sps, souts):
            while True:
                sout.seek(0)
                text = sout.read()
                if ready is None or ready in text:
                    break
                if sp.poll() is not None:
                    raise CellError("server exited %d: %s" % (sp.returncode, tail(text)))
                if time.time() - t0 > 15 + (30 if server_prefix else 0):
                    raise CellError("server not ready: %s" % tail(text))
                time.sleep(0.02)
        if ready is None:
            time.sleep(0.3)
        probed = probe(sps[0].pid) if probe else None
        rss_ready = sum(rss_kib(sp.pid) for sp in sps)
        soft0, scpu0 = ksoftirqd_cpu_s(), sum(task_cpu_s(sp.pid) for sp in sps)
        for link, (server_args, client_args) in zip(links, pairs):
            ca = list(client_args) + (["-f", env.conf(link, "client", conf_extra, net)] if stack == "ours" else [])
            cout = open(os.path.join(env.tmp, link + "_client.out"), "w+")
            couts.append(cout)
            cp = subprocess.Popen(net.prefix("client", stack) + ["taskset", "-c", str(CLIENT_CPU)] +
                                  (client_prefix or []) + [env.exe(tool, stack)] + ca,
                                  stdout=cout, stderr=subprocess.STDOUT, preexec_fn=_raise_nofile)
            env.live.append(cp)
            cps.append(cp)
        sampler = Sampler([p.pid for p in sps + cps]) if sample else None
        if sampler:
            sampler.start()
        side = during([p.pid for p in sps], [p.pid for p in cps]) if during else None
        if side:
            env.live.append(side)
        ccpu, scpu, end = 0.0, 0.0, time.time() + client_timeout
        for cp in cps:
            c = wait_rusage(cp, max(0.1, end - time.time()))
            if c is None:
                raise CellError("client timed out after %ds" % client_timeout)
            ccpu += c
        soft, scpu = ksoftirqd_cpu_s() - soft0, sum(task_cpu_s(sp.pid) for sp in sps) - scpu0
        if sampler:
            sampler.stop.set()
            sampler.join()
        if side:
            try:
                side.wait(timeout=10)
            except subprocess.TimeoutExpired:
                side.kill()
                side.wait()
        for sp in sps:
            if sp.poll() is None:
                sp.send_signal(signal.SIGTERM)
        for sp in sps:
            if wait_rusage(sp, (10 if server_json else 0.5) + (60 if server_prefix else 0)) is None:
                sp.kill()
                sp.wait()
        ctexts, stexts = [], []
        for f, texts in [(f, ctexts) for f in couts] + [(f, stexts) for f in souts]:
            f.seek(0)
            texts.append(f.read())
        if env.verbose:
            for t in ctexts:
                print("    client:", tail(t, 1))
        cjs, sjs = [last_json(t) for t in ctexts], [last_json(t) for t in stexts]
        for cp, cj, t in zip(cps, cjs, ctexts):
            if cp.returncode != 0 or cj is None:
                raise CellError("client exited %d: %s" % (cp.returncode, tail(t)))
        return {"clients": cjs, "servers": sjs, "client_cpu_s": ccpu, "server_cpu_s": scpu, "softirqd_cpu_s": soft,
                "client_texts": ctexts, "server_texts": stexts, "probe": probed, "server_rss_ready_kib": rss_ready,
                "server_rss_kib": sum(sampler.peak[p.pid] for p in sps) if sampler else None,
                "client_rss_kib": sum(sampler.peak[p.pid] for p in cps) if sampler else None,
                "kernel_tcp_pages": (sampler.sock_peak - sampler.sock0) if sampler else None,
                "slab_kib": (sampler.slab_peak - sampler.slab0) if sampler else None}
    finally:
        for p in sps + cps:
            if p.poll() is None:
                p.kill()
                p.wait()
        for f in souts + couts:
            f.close()
        for link in links:
            env.clean_link(link)
