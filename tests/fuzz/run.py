#!/usr/bin/env python3
"""Builds the libFuzzer targets into build-fuzz/ and runs them, --jobs of them at a time.

  run.py [--seconds N] [--keep] [TARGET...]

Each target first replays its regression inputs (regressions/<target>/, every crash ever found),
then fuzzes for N seconds starting from its committed seeds (corpus/<target>/). New inputs go to
a work corpus, build-fuzz/corpus/<target>/; with --keep (`make fuzz`) those that add coverage are
merged into corpus/<target>/ afterwards (-merge=1), to be committed. A crash stops nothing else:
its input is left in build-fuzz/crashes/<target>/, and the run fails at the end. Prints a table
of executions, coverage (edges: libFuzzer's cov) and corpus size per target."""
import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
BUILD = os.environ.get("FUZZ_BUILD_DIR", os.path.join(ROOT, "build-fuzz"))


def build(jobs):
    env = dict(os.environ, CC="clang", CXX="clang++")
    if not os.path.exists(os.path.join(BUILD, "build.ninja")):
        launcher = ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"] if shutil.which("ccache") else []
        subprocess.run(["cmake", "-S", HERE, "-B", BUILD, "-G", "Ninja", *launcher], check=True, env=env)
    subprocess.run(["cmake", "--build", BUILD, "-j", str(jobs)], check=True, env=env)


def targets():
    return sorted(f[len("fuzz_"):-len(".cpp")] for f in os.listdir(HERE) if f.startswith("fuzz_") and f.endswith(".cpp"))


def files_in(folder):
    return sorted(os.path.join(folder, f) for f in os.listdir(folder)) if os.path.isdir(folder) else []


def last(pattern, text, default="?"):
    found = re.findall(pattern, text)
    return found[-1] if found else default


def fuzz(target, seconds, keep):
    binary = os.path.join(BUILD, target)
    seeds = os.path.join(HERE, "corpus", target)
    work = os.path.join(BUILD, "corpus", target)
    crashes = os.path.join(BUILD, "crashes", target) + "/"
    os.makedirs(work, exist_ok=True)
    os.makedirs(crashes, exist_ok=True)
    common = ["-rss_limit_mb=2048", "-timeout=20", f"-artifact_prefix={crashes}"]

    regressions = files_in(os.path.join(HERE, "regressions", target))
    if regressions:
        replay = subprocess.run([binary, *common, *regressions], capture_output=True, text=True)
        if replay.returncode != 0:
            sys.stderr.write(replay.stderr[-4000:])
            return {"target": target, "ok": False, "why": "a regression input fails again"}

    started = time.monotonic()
    run = subprocess.run([binary, *common, f"-max_total_time={seconds}", "-print_final_stats=1", work, seeds],
                         capture_output=True, text=True)
    log = run.stderr
    row = {"target": target, "ok": run.returncode == 0, "seconds": round(time.monotonic() - started),
           "execs": last(r"stat::number_of_executed_units:\s+(\d+)", log),
           "edges": last(r"cov: (\d+)", log), "features": last(r"ft: (\d+)", log),
           "corpus": len(files_in(work)) + len(files_in(seeds))}
    if not row["ok"]:
        sys.stderr.write(log[-6000:])
        row["why"] = "crashed: input in " + crashes
    elif keep:
        merged = subprocess.run([binary, *common, "-merge=1", seeds, work], capture_output=True, text=True)
        if merged.returncode != 0:
            sys.stderr.write(merged.stderr[-4000:])
            row["ok"], row["why"] = False, "the merge failed"
    row["kept"] = len(files_in(seeds))
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS", 300)))
    parser.add_argument("--keep", action="store_true", help="merge new coverage into corpus/<target>/")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("JOBS", 2)))
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("target", nargs="*")
    args = parser.parse_args()
    if not args.no_build:
        build(args.jobs)
    chosen = args.target or targets()
    rows = []
    # Each target is one process on one core: as many at once as there are jobs.
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for row in pool.map(lambda target: fuzz(target, args.seconds, args.keep), chosen):
            rows.append(row)
            print(f"fuzz {row['target']}: " + ("ok" if row["ok"] else "FAILED, " + row["why"]), flush=True)
    print(f"\n{'target':<16}{'seconds':>8}{'execs':>12}{'edges':>8}{'features':>10}{'corpus':>8}{'kept':>6}")
    for r in rows:
        print(f"{r['target']:<16}{r.get('seconds', '-'):>8}{r.get('execs', '-'):>12}{r.get('edges', '-'):>8}"
              f"{r.get('features', '-'):>10}{r.get('corpus', '-'):>8}{r.get('kept', '-'):>6}"
              + ("" if r["ok"] else "  FAILED"))
    failed = [r["target"] for r in rows if not r["ok"]]
    if failed:
        print("failed: " + ", ".join(failed) + " (keep each crash input in tests/fuzz/regressions/<target>/ once fixed)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
