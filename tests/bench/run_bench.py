#!/usr/bin/env python3
"""Streaming benchmark driver: the fake upstream, chatd (etc/chatd.bench.conf) and bench_stream.

Prints time-to-first-token asked directly vs through chatd (the difference is what chatd adds)
for each scenario, chat.send's latency, chatd's CPU per answer and its peak RSS.

Scenarios: `N:burst` (N answers started at once), `N:fresh` (the same, each on a new connection),
`N:steady` (N in flight, starts spread over one answer's duration, three answers per worker),
all with --tokens and --delay; or a named
one with its own answer shape (SCENARIOS below): `burst1000`, `rate500`, `rate250`, `hold9000`,
`steady100`, `burst1000fresh` (the burst, each question on a new connection).
Usage: tests/bench/run_bench.py [--build DIR] [--scenarios 100:burst,burst1000,...]
"""
import argparse
import http.client
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# name: (answers in flight at most, answers, starts spread over ms, tokens, ms per token)
SCENARIOS = {
    "burst1000": (1000, 1000, 4000, 200, 20),     # 1,000 questions over 4 s
    "rate500": (10000, 10000, 20000, 20, 200),    # 500 questions a second for 20 s
    "rate250": (5000, 5000, 20000, 20, 200),      # the same at half the rate, for reference
    "hold9000": (9000, 9000, 10000, 20, 1000),    # 9,000 answers of 20 s open together
    "steady100": (100, 300, 4000, 200, 20),       # 100 in flight, three answers each
    "burst1000fresh": (1000, 1000, 4000, 200, 20),  # the burst, each question from a new visitor
}
# Scenarios whose every question connects anew, its connection's setup on the clock (a new
# visitor, in the direct run a new client of the upstream): the others reuse connections
# opened before the clock starts.
FRESH_CONNECTIONS = {"burst1000fresh"}


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def threads_by_role(pid):
    """chatd's threads by role: the event loops (`chatd`, `chatd-ioN`), the database writer
    (`chatd-db`) and the rest; for each, their CPU seconds, the seconds they spent runnable but
    waiting for a core (a loop that waits there runs late however little work it has), and how many."""
    roles = {r: {"cpu": 0.0, "waited": 0.0, "threads": 0} for r in ("loops", "database", "other")}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                name, rest = f.read().split("(", 1)[1].rsplit(")", 1)
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                waited = int(f.read().split()[1]) / 1e9
            fields = rest.split()
            cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            continue
        role = roles["loops" if name == "chatd" or name.startswith("chatd-io") else
                     "database" if name == "chatd-db" else "other"]
        role["cpu"] += cpu
        role["waited"] += waited
        role["threads"] += 1
    return roles


def roles_delta(before, after):
    """What each role's figures grew by between two threads_by_role samples of every chatd."""
    return {r: {k: sum(b[r][k] - a[r][k] for a, b in zip(before, after)) for k in ("cpu", "waited")} |
            {"threads": sum(b[r]["threads"] for b in after)} for r in after[0]}


def machine_busy_seconds():
    """CPU seconds the whole machine spent on anything but idle (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


def children_cpu():
    """utime + stime of the finished children (the load generator's runs), in seconds."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def reset_peak_rss(pid):
    """VmHWM back to the current RSS (Linux: clear_refs 5), so each scenario reports its own peak."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout=20, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    sys.exit(f"timed out waiting for {what}")


def rss_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def bench(binary, *args):
    r = subprocess.run([binary, *args, "--json"], capture_output=True, text=True, timeout=900)
    if r.stderr.strip():
        print(r.stderr.strip(), file=sys.stderr)
    return json.loads(r.stdout)


GAUGES = {"loop_lag": "chatd_event_loop_lag_seconds{", "database_write": "chatd_database_write_seconds "}


def worst_gauges_ms(port):
    """From chatd's /metrics: the longest any event loop ran late lately, and the longest a write to
    the database took lately (both 0 if unreadable)."""
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
    except OSError:
        return dict.fromkeys(GAUGES, 0.0)
    return {name: max((float(line.rsplit(" ", 1)[1]) * 1000 for line in text.splitlines()
                       if line.startswith(prefix)), default=0.0) for name, prefix in GAUGES.items()}


class GaugeSampler(threading.Thread):
    """Reads chatd's worst-lately gauges every few seconds while a run goes on (their window is 10-20 s)."""

    def __init__(self, ports):
        super().__init__(daemon=True)
        self.ports, self.worst, self.done = ports, dict.fromkeys(GAUGES, 0.0), threading.Event()

    def sample(self):
        for port in self.ports:
            for name, v in worst_gauges_ms(port).items():
                self.worst[name] = max(self.worst[name], v)

    def run(self):
        while not self.done.wait(3):
            self.sample()

    def stop(self):
        self.done.set()
        self.join()
        self.sample()
        return self.worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--scenarios", default="100:burst,100:steady,1000:burst",
                    help="CONCURRENCY:burst|fresh|steady or a named scenario, comma-separated")
    ap.add_argument("--tokens", type=int, default=200)
    ap.add_argument("--delay", type=int, default=20)
    ap.add_argument("--think-tokens", type=int, default=0,
                    help="reasoning tokens streamed before the answer (a DeepSeek-style reasoning model)")
    ap.add_argument("--healthy-keys", type=int, default=1, help="keys that answer")
    ap.add_argument("--invalid-keys", type=int, default=0,
                    help="keys the upstream refuses (401): the pool must learn to skip them")
    ap.add_argument("--cost", type=int, default=1, help="credits a question costs (0: nothing is charged)")
    ap.add_argument("--wrap", default="", help="command prefix for chatd, e.g. a profiler")
    ap.add_argument("--chatd-env", action="append", default=[], metavar="NAME=VALUE",
                    help="an environment variable for chatd only, e.g. LD_PRELOAD=... (repeatable)")
    ap.add_argument("--chatd-args", default="", help="more options for chatd, e.g. '--stream_flush_ms 0'")
    ap.add_argument("--instances", type=int, default=1,
                    help="chatd processes sharing one database (needs --chatd-args with a PostgreSQL store); "
                         "the load is spread over them by connection")
    ap.add_argument("--users", type=int, default=1,
                    help="users asking (workers take their sessions in turn); one user's questions queue on "
                         "that user's balance")
    ap.add_argument("--json-out", default="", help="also write the figures to this file as JSON")
    ap.add_argument("--floor", action="store_true",
                    help="also run each direct shape through relay_floor, a bare relay, and print its CPU")
    opts = ap.parse_args()
    plans = []  # (label, concurrency, requests, ramp_ms, tokens, delay, fresh connections)
    for spec in opts.scenarios.split(","):
        if spec in SCENARIOS:
            plans.append((spec, *SCENARIOS[spec], spec in FRESH_CONNECTIONS))
            continue
        n, kind = spec.split(":")
        n = int(n)
        answer_ms = (opts.think_tokens + opts.tokens) * opts.delay
        # steady: starts spread over one answer's time, three answers per worker; fresh: a burst
        # on new connections.
        once = kind in ("burst", "fresh")
        plans.append((f"{n} {kind}", n, n if once else 3 * n, 0 if once else answer_ms,
                      opts.tokens, opts.delay, kind == "fresh"))
    chatd_bin, chatctl, fake_bin, bench_bin, floor_bin = (
        os.path.join(opts.build, n) for n in ("chatd", "chatctl", "fake_upstream", "bench_stream", "relay_floor"))
    work = tempfile.mkdtemp(prefix="chatd-bench-")
    procs = []
    chatds = []  # (process, pid of chatd itself, port, admin socket)
    try:
        port_file = os.path.join(work, "fake.port")
        fake = subprocess.Popen([fake_bin, "--listen", "127.0.0.1:0", "--port-file", port_file, "--threads", "2"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        procs.append(fake)
        fake_port = int(wait_for(lambda: os.path.exists(port_file) and open(port_file).read().strip(),
                                 what="fake_upstream"))
        base = f"http://127.0.0.1:{fake_port}/v1"
        floor = None
        if opts.floor:
            floor_port_file = os.path.join(work, "floor.port")
            floor = subprocess.Popen([floor_bin, "--upstream-port", str(fake_port), "--port-file", floor_port_file],
                                     stdout=sys.stderr, stderr=subprocess.STDOUT)
            procs.append(floor)
            floor_base = "http://127.0.0.1:%s/v1" % wait_for(
                lambda: os.path.exists(floor_port_file) and open(floor_port_file).read().strip(), what="relay_floor")
        behaviour = "reasoning" if opts.think_tokens else "ok"

        def key_shape(tokens, delay):
            return f"tokens={tokens}:delay={delay}" + \
                (f":think_tokens={opts.think_tokens}:think_delay={delay}" if opts.think_tokens else "")

        def start_chatd(n):
            port, sock = free_port(), os.path.join(work, f"admin{n}.sock")
            proc = subprocess.Popen([*opts.wrap.split(), chatd_bin, "--config", os.path.join(ROOT, "etc/chatd.bench.conf"),
                                     "--listen", f"127.0.0.1:{port}", "--data-dir", os.path.join(work, f"var{n}"),
                                     "--admin-socket", sock, *opts.chatd_args.split()], stdout=sys.stderr,
                                    stderr=subprocess.STDOUT,
                                    env={**os.environ, **dict(v.split("=", 1) for v in opts.chatd_env)})
            procs.append(proc)
            pid = proc.pid
            if opts.wrap:  # chatd is the wrapper's child (a profiler may start helpers of its own too)
                def wrapped_chatd():
                    return subprocess.run(["pgrep", "-x", "-P", str(proc.pid), os.path.basename(chatd_bin)[:15]],
                                          capture_output=True, text=True).stdout.split()
                pid = int(wait_for(wrapped_chatd, what="chatd under the wrapper")[0])

            def healthy():
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                    c.request("GET", "/healthz")
                    return c.getresponse().status == 200
                except OSError:
                    return False
            wait_for(healthy, what="chatd")
            chatds.append((proc, pid, port, sock))

        for n in range(opts.instances):
            start_chatd(n)
        port, sock = chatds[0][2], chatds[0][3]
        urls = [a for _, _, p, _ in chatds for a in ("--url", f"http://127.0.0.1:{p}")]

        def ctl(*args, stdin=None, on=None):
            return subprocess.run([chatctl, "-s", on or sock, *args], input=stdin, text=True, check=True,
                                  capture_output=True).stdout

        def cpu_all():
            return sum(cpu_seconds(pid) for _, pid, _, _ in chatds)

        def rss_all(field):
            return sum(rss_kib(pid, field) for _, pid, _, _ in chatds)

        def use_keys(tokens, delay):
            """The pool holds only keys answering with this shape; returns one of them."""
            for k in json.loads(ctl("--json", "keys", "list"))["items"]:
                ctl("keys", "rm", str(k["id"]))
            shape = key_shape(tokens, delay)
            pool = [f"sk-bench{i:03d}t{tokens}d{delay}:{behaviour}:{shape}" for i in range(opts.healthy_keys)]
            pool += [f"sk-bad{i:03d}:invalid" for i in range(opts.invalid_keys)]
            ctl("keys", "add", "--base-url", base, "-", stdin="\n".join(pool) + "\n")
            for _, _, _, other in chatds[1:]:  # its listing takes in the shared keys first
                ctl("keys", "list", on=other)
            return pool[0]

        for _, _, _, each in chatds:
            ctl("models", "set", "gpt-4o-mini", "--cost", str(opts.cost), on=each)
        def sign_up(name):
            c = http.client.HTTPConnection("127.0.0.1", port)
            c.request("POST", "/rpc", json.dumps({"jsonrpc": "2.0", "id": 1, "method": "auth.password.register",
                                                  "params": {"username": name, "password": "bench password"}}),
                      {"Content-Type": "application/json", "Origin": f"http://127.0.0.1:{port}"})
            r = c.getresponse()
            r.read()
            return r.getheader("Set-Cookie").split(";", 1)[0]
        cookies = [a for i in range(opts.users) for a in ("--cookie", sign_up("bench" if i == 0 else f"bench{i}"))]
        baseline_rss = rss_all("VmRSS")

        print(f"upstream: fake; keys: {opts.healthy_keys} healthy, {opts.invalid_keys} invalid; "
              f"{opts.think_tokens} reasoning tokens first; {opts.instances} chatd instance(s); "
              f"machine: {os.cpu_count()} cores")
        rows = []
        for label, n, requests, ramp, tokens, delay, fresh in plans:
            # The direct runs use connections opened before the clock starts; warm chatd's
            # upstream connection pool the same way with one short unmeasured round.
            use_keys(1, 0)
            bench(bench_bin, "chatd", *urls, *cookies,
                  "--concurrency", str(n), "--requests", str(n), "--ramp-ms", str(min(ramp, 2000)))
            key = use_keys(tokens, delay)
            shape = ["--concurrency", str(n), "--requests", str(requests), "--ramp-ms", str(ramp),
                     *(["--fresh-connections"] if fresh else [])]
            direct = bench(bench_bin, "direct", "--url", base, "--key", key, *shape)
            if floor:  # the same shape through a relay that only reads and writes
                cpu0 = cpu_seconds(floor.pid)
                direct["floor"] = bench(bench_bin, "direct", "--url", floor_base, "--key", key, *shape)
                used = cpu_seconds(floor.pid) - cpu0
                direct["floor"]["cpu_ms_per_answer"] = round(used * 1000 / max(1, requests), 3)
                direct["floor"]["cpu_us_per_token"] = round(used * 1e6 / max(1, requests * tokens), 1)
            for _, pid, _, _ in chatds:
                reset_peak_rss(pid)
            cpu0, fake0, gen0 = cpu_all(), cpu_seconds(fake.pid), children_cpu()
            machine0, roles0 = machine_busy_seconds(), [threads_by_role(pid) for _, pid, _, _ in chatds]
            gauges = GaugeSampler([p for _, _, p, _ in chatds])
            gauges.start()
            via = bench(bench_bin, "chatd", *urls, *cookies, *shape)
            chatd_cpu = cpu_all() - cpu0
            worst = gauges.stop()
            via["loop_lag_max_ms"] = round(worst["loop_lag"], 1)
            via["database_write_max_ms"] = round(worst["database_write"], 1)
            via["cpu_ms_per_answer"] = chatd_cpu * 1000 / max(1, requests)
            # All three share the machine: how many of its cores each kept busy over the run.
            cpu_used = {"chatd": chatd_cpu, "fake_upstream": cpu_seconds(fake.pid) - fake0,
                        "load_generator": children_cpu() - gen0}
            via["cores_busy"] = {k: round(v / max(via["wall_s"], 1e-9), 2) for k, v in cpu_used.items()}
            wall = max(via["wall_s"], 1e-9)
            roles = roles_delta(roles0, [threads_by_role(pid) for _, pid, _, _ in chatds])
            via["chatd_cores_by_role"] = {r: round(v["cpu"] / wall, 2) for r, v in roles.items()}
            via["machine_busy"] = round((machine_busy_seconds() - machine0) / wall / os.cpu_count(), 2)
            # The part of the run each event loop spent ready to work but waiting for a core.
            via["loops_waiting_for_cpu"] = round(roles["loops"]["waited"] / max(1, roles["loops"]["threads"]) / wall, 3)
            # What a relayed token costs each party: the fake sends it, the load generator receives it,
            # chatd does both (plus the question around it).
            token_count = max(1, requests * tokens)
            via["cpu_us_per_token"] = {k: round(v * 1e6 / token_count, 1) for k, v in cpu_used.items()}
            via["peak_rss_mb"] = rss_all("VmHWM") / 1024
            rows.append((f"{label} ({tokens}x{delay}ms)", direct, via))

        print(f"{'scenario':>26} {'mode':>7} {'errors':>6} {'ttft p50':>9} {'p95':>8} {'p99':>8} {'max':>8}"
              f" {'total p50':>10} {'p99':>9} {'wall s':>7}")
        for n, d, v in rows:
            for name, r in (("direct", d), ("chatd", v)):
                t = r["ttft_ms"]
                print(f"{n:>26} {name:>7} {r['errors']:>6} {t['p50']:>9.2f} {t['p95']:>8.2f} {t['p99']:>8.2f}"
                      f" {t['max']:>8.2f} {r['total_ms']['p50']:>10.1f} {r['total_ms']['p99']:>9.1f}"
                      f" {r['wall_s']:>7.2f}")
            print(f"{'':>26} {'added':>7} {'':>6} {v['ttft_ms']['p50'] - d['ttft_ms']['p50']:>9.2f}"
                  f" {v['ttft_ms']['p95'] - d['ttft_ms']['p95']:>8.2f}"
                  f" {v['ttft_ms']['p99'] - d['ttft_ms']['p99']:>8.2f}"
                  f"   total p99 x{v['total_ms']['p99'] / max(d['total_ms']['p99'], 1e-9):.3f}")
            print(f"{'':>26} {'chatd':>7}  chat.send p50 {v['send_ms']['p50']:.2f} p99 {v['send_ms']['p99']:.2f} ms;"
                  f" CPU {v['cpu_ms_per_answer']:.2f} ms/answer; peak RSS {v['peak_rss_mb']:.1f} MB;"
                  f" loops up to {v['loop_lag_max_ms']:.0f} ms late; a database write up to"
                  f" {v['database_write_max_ms']:.0f} ms")
            busy, roles = v["cores_busy"], v["chatd_cores_by_role"]
            print(f"{'':>26} {'cores':>7}  busy: chatd {busy['chatd']:.2f} (event loops {roles['loops']:.2f},"
                  f" database {roles['database']:.2f}), fake upstream {busy['fake_upstream']:.2f},"
                  f" load generator {busy['load_generator']:.2f} of {os.cpu_count()}"
                  f" (machine {v['machine_busy']:.0%} busy);"
                  f" loops waited for a core {v['loops_waiting_for_cpu']:.0%} of the run")
            per = v["cpu_us_per_token"]
            print(f"{'':>26} {'token':>7}  CPU µs per token: chatd {per['chatd']:.1f},"
                  f" fake upstream {per['fake_upstream']:.1f}, load generator {per['load_generator']:.1f}")
            if "floor" in d:
                f = d["floor"]
                print(f"{'':>26} {'floor':>7}  a bare relay: {f['errors']} errors, added TTFT p99"
                      f" {f['ttft_ms']['p99'] - d['ttft_ms']['p99']:.2f} ms; CPU {f['cpu_ms_per_answer']:.2f}"
                      f" ms/answer, {f['cpu_us_per_token']:.1f} µs per token")
        peak = rss_all("VmHWM")
        print(f"chatd RSS: {baseline_rss / 1024:.1f} MB idle")
        summary = {"scenarios": [{"scenario": n, "direct": d, "chatd": v} for n, d, v in rows],
                   "chatd_rss_idle_mb": round(baseline_rss / 1024, 1), "chatd_rss_peak_mb": round(peak / 1024, 1)}
        if opts.json_out:
            with open(opts.json_out, "w") as f:
                json.dump(summary, f, indent=2)
        errors = sum(v["errors"] + d["errors"] + d.get("floor", {}).get("errors", 0) for _, d, v in rows)
        return 1 if errors else 0
    finally:
        for proc, pid, _, _ in chatds:
            if pid != proc.pid:  # a wrapper waits for its chatd
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
