# Process plumbing for bench/run: one server + one client, pinned (server on
# CPU 0, client on CPU 1), either our stack (two processes on the two ends of
# one shm link, each with its own mtcp.conf) or the -kernel build over 127.0.0.1.
import glob, json, os, resource, signal, subprocess, tempfile, threading, time

SERVER_CPU, CLIENT_CPU = 0, 1
SERVER_IP, CLIENT_IP = "10.0.0.1", "10.0.0.2"


class CellError(Exception):
    """The cell cannot produce a number; the message becomes "n/a (...)"."""


def _raise_nofile():
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (300000, 300000))
    except (ValueError, OSError):
        pass


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

    def exe(self, tool, stack):
        folder = "pktgen" if tool == "pktgen" else tool
        base = os.path.join(self.build, "tools" if tool == "pktgen" else "apps", folder)
        return os.path.join(base, "mvnf-%s%s" % (tool, "-kernel" if stack == "linux" else ""))

    def link(self):
        self._n += 1
        name = "mvb%d_%d" % (os.getpid(), self._n)
        self.links.append(name)
        return name

    def conf(self, link, role, extra):
        path = os.path.join(self.tmp, "%s_%s.conf" % (link, role))
        me = 1 if role == "server" else 2
        cpu = SERVER_CPU if role == "server" else CLIENT_CPU
        lines = {"port": "shm:" + link, "num_cores": "1", "core_mask": hex(1 << cpu),
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
        for name in self.links:
            self.clean_link(name)
        subprocess.call(["rm", "-rf", self.tmp])


class Sampler(threading.Thread):
    """Peak RSS of given pids and peak kernel TCP memory while a run lasts."""

    def __init__(self, pids):
        super().__init__(daemon=True)
        self.pids = pids
        self.peak = {p: 0 for p in pids}
        self.sock0 = sockstat_tcp_pages()
        self.sock_peak = self.sock0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(0.05):
            for p in self.pids:
                self.peak[p] = max(self.peak[p], rss_kib(p))
            self.sock_peak = max(self.sock_peak, sockstat_tcp_pages())


def wait_rusage(p, timeout):
    """Waits for p; returns CPU seconds (user+sys) of the child, or None on timeout."""
    end = time.time() + timeout
    while time.time() < end:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            p.returncode = os.waitstatus_to_exitcode(status)
            return ru.ru_utime + ru.ru_stime
        time.sleep(0.02)
    return None


def run_pair(env, stack, tool, server_args, client_args, conf_extra=None, ready="listening",
             client_timeout=30, server_prefix=None, client_prefix=None, sample=False):
    """Runs one server/client pair; returns a dict with both JSON summaries,
    CPU seconds, peak RSS (KiB) and the kernel TCP memory peak (pages)."""
    link = env.link()
    sa, ca = list(server_args), list(client_args)
    if stack == "ours":
        sa += ["-f", env.conf(link, "server", conf_extra)]
        ca += ["-f", env.conf(link, "client", conf_extra)]
    out_path = os.path.join(env.tmp, link + "_server.out")
    sout = open(out_path, "w+")
    sp = subprocess.Popen(["taskset", "-c", str(SERVER_CPU)] + (server_prefix or []) + [env.exe(tool, stack)] + sa,
                          stdout=sout, stderr=subprocess.STDOUT, preexec_fn=_raise_nofile)
    env.live.append(sp)
    try:
        t0 = time.time()
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
        cout_path = os.path.join(env.tmp, link + "_client.out")
        cout = open(cout_path, "w+")
        cp = subprocess.Popen(["taskset", "-c", str(CLIENT_CPU)] + (client_prefix or []) + [env.exe(tool, stack)] + ca,
                              stdout=cout, stderr=subprocess.STDOUT, preexec_fn=_raise_nofile)
        env.live.append(cp)
        sampler = Sampler([sp.pid, cp.pid]) if sample else None
        if sampler:
            sampler.start()
        ccpu = wait_rusage(cp, client_timeout)
        if sampler:
            sampler.stop.set()
            sampler.join()
        if ccpu is None:
            cp.kill()
            cp.wait()
            raise CellError("client timed out after %ds" % client_timeout)
        cout.seek(0)
        ctext = cout.read()
        if sp.poll() is None:
            sp.send_signal(signal.SIGTERM)
        scpu = wait_rusage(sp, 10 + (60 if server_prefix else 0))
        if scpu is None:
            sp.kill()
            sp.wait()
        sout.seek(0)
        stext = sout.read()
        if env.verbose:
            print("    client:", tail(ctext, 1))
        cj, sj = last_json(ctext), last_json(stext)
        if cp.returncode != 0 or cj is None:
            raise CellError("client exited %d: %s" % (cp.returncode, tail(ctext)))
        return {"client": cj, "server": sj, "client_cpu_s": ccpu, "server_cpu_s": scpu,
                "client_text": ctext, "server_text": stext,
                "server_rss_kib": sampler.peak[sp.pid] if sampler else None,
                "client_rss_kib": sampler.peak[cp.pid] if sampler else None,
                "kernel_tcp_pages": (sampler.sock_peak - sampler.sock0) if sampler else None}
    finally:
        for p in (sp,):
            if p.poll() is None:
                p.kill()
                p.wait()
        env.clean_link(link)
