#!/usr/bin/env python3
"""Streaming benchmark driver: the fake upstream, chatd (etc/chatd.bench.conf) and bench_stream.

Prints time-to-first-token asked directly vs through chatd (the difference is what chatd adds)
for each scenario: 100 answers started at once (a burst), 100 answers in flight with starts
spread over one answer's duration (steady load), and 1,000 answers started at once; then
chatd's peak RSS. Usage: tests/bench/run_bench.py [--build DIR] [--scenarios 100:burst,...]
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--scenarios", default="100:burst,100:steady,1000:burst",
                    help="CONCURRENCY:burst|steady, comma-separated")
    ap.add_argument("--tokens", type=int, default=200)
    ap.add_argument("--delay", type=int, default=20)
    ap.add_argument("--think-tokens", type=int, default=0,
                    help="reasoning tokens streamed before the answer (a DeepSeek-style reasoning model)")
    ap.add_argument("--healthy-keys", type=int, default=1, help="keys that answer")
    ap.add_argument("--invalid-keys", type=int, default=0,
                    help="keys the upstream refuses (401): the pool must learn to skip them")
    ap.add_argument("--cost", type=int, default=1, help="credits a question costs (0: nothing is charged)")
    ap.add_argument("--wrap", default="", help="command prefix for chatd, e.g. a profiler")
    opts = ap.parse_args()
    levels = [(int(n), kind) for n, kind in (x.split(":") for x in opts.scenarios.split(","))]
    chatd_bin, chatctl, fake_bin, bench_bin = (os.path.join(opts.build, n) for n in
                                               ("chatd", "chatctl", "fake_upstream", "bench_stream"))
    work = tempfile.mkdtemp(prefix="chatd-bench-")
    procs = []
    try:
        port_file = os.path.join(work, "fake.port")
        fake = subprocess.Popen([fake_bin, "--listen", "127.0.0.1:0", "--port-file", port_file, "--threads", "2"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        procs.append(fake)
        fake_port = int(wait_for(lambda: os.path.exists(port_file) and open(port_file).read().strip(),
                                 what="fake_upstream"))
        base = f"http://127.0.0.1:{fake_port}/v1"
        behaviour = "reasoning" if opts.think_tokens else "ok"
        answer_shape = f"tokens={opts.tokens}:delay={opts.delay}" + \
            (f":think_tokens={opts.think_tokens}:think_delay={opts.delay}" if opts.think_tokens else "")
        key = f"sk-bench:{behaviour}:{answer_shape}"

        port = free_port()
        sock = os.path.join(work, "admin.sock")
        chatd = subprocess.Popen([*opts.wrap.split(), chatd_bin, "--config", os.path.join(ROOT, "etc/chatd.bench.conf"),
                                  "--listen", f"127.0.0.1:{port}", "--data-dir", os.path.join(work, "var"),
                                  "--admin-socket", sock], stdout=sys.stderr, stderr=subprocess.STDOUT)
        procs.append(chatd)

        def healthy():
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                c.request("GET", "/healthz")
                return c.getresponse().status == 200
            except OSError:
                return False
        wait_for(healthy, what="chatd")
        pool = [f"sk-bench{i:03d}:{behaviour}:{answer_shape}" for i in range(opts.healthy_keys)]
        pool += [f"sk-bad{i:03d}:invalid" for i in range(opts.invalid_keys)]
        subprocess.run([chatctl, "-s", sock, "keys", "add", "--base-url", base, "-"], input="\n".join(pool) + "\n",
                       text=True, check=True, capture_output=True)
        subprocess.run([chatctl, "-s", sock, "models", "set", "gpt-4o-mini", "--cost", str(opts.cost)],
                       check=True, capture_output=True)
        c = http.client.HTTPConnection("127.0.0.1", port)
        c.request("POST", "/rpc", json.dumps({"jsonrpc": "2.0", "id": 1, "method": "auth.password.register",
                                              "params": {"username": "bench", "password": "bench password"}}),
                  {"Content-Type": "application/json", "Origin": f"http://127.0.0.1:{port}"})
        r = c.getresponse()
        r.read()
        cookie = r.getheader("Set-Cookie").split(";", 1)[0]
        baseline_rss = rss_kib(chatd.pid, "VmRSS")

        print(f"upstream: fake, {opts.think_tokens} reasoning + {opts.tokens} tokens at {opts.delay} ms per token; "
              f"keys: {opts.healthy_keys} "
              f"healthy, {opts.invalid_keys} invalid; machine: {os.cpu_count()} cores")
        rows = []
        answer_ms = (opts.think_tokens + opts.tokens) * opts.delay
        for n, kind in levels:
            # The direct runs use connections opened before the clock starts; warm chatd's
            # upstream connection pool the same way with one unmeasured round.
            bench(bench_bin, "chatd", "--url", f"http://127.0.0.1:{port}", "--cookie", cookie,
                  "--concurrency", str(n), "--requests", str(n))
            # steady: starts spread over one answer's time, three answers per worker.
            shape = ["--requests", str(n)] if kind == "burst" else \
                ["--requests", str(3 * n), "--ramp-ms", str(answer_ms)]
            direct = bench(bench_bin, "direct", "--url", base, "--key", key, "--concurrency", str(n), *shape)
            via = bench(bench_bin, "chatd", "--url", f"http://127.0.0.1:{port}", "--cookie", cookie,
                        "--concurrency", str(n), *shape)
            rows.append((f"{n} {kind}", direct, via))
        peak = rss_kib(chatd.pid, "VmHWM")

        print(f"{'scenario':>10} {'mode':>7} {'errors':>6} {'ttft p50':>9} {'p95':>8} {'p99':>8} {'max':>8}"
              f" {'total p50':>10} {'wall s':>7}")
        for n, d, v in rows:
            for name, r in (("direct", d), ("chatd", v)):
                t = r["ttft_ms"]
                print(f"{n:>10} {name:>7} {r['errors']:>6} {t['p50']:>9.2f} {t['p95']:>8.2f} {t['p99']:>8.2f}"
                      f" {t['max']:>8.2f} {r['total_ms']['p50']:>10.1f} {r['wall_s']:>7.2f}")
            print(f"{'':>10} {'added':>7} {'':>6} {v['ttft_ms']['p50'] - d['ttft_ms']['p50']:>9.2f}"
                  f" {v['ttft_ms']['p95'] - d['ttft_ms']['p95']:>8.2f}"
                  f" {v['ttft_ms']['p99'] - d['ttft_ms']['p99']:>8.2f}")
        print(f"chatd RSS: {baseline_rss / 1024:.1f} MB idle, peak {peak / 1024:.1f} MB")
        summary = {"scenarios": [{"scenario": n, "direct": d, "chatd": v} for n, d, v in rows],
                   "chatd_rss_idle_mb": round(baseline_rss / 1024, 1), "chatd_rss_peak_mb": round(peak / 1024, 1)}
        with open(os.path.join(work, "summary.json"), "w") as f:
            json.dump(summary, f, indent=2)
        errors = sum(v["errors"] + d["errors"] for _, d, v in rows)
        return 1 if errors else 0
    finally:
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
