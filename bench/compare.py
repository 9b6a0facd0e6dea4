#!/usr/bin/env python3
"""Runs tapegrad, libtorch and the GEMM-only floor side by side and prints one markdown table.

Every measurement is its own process (so peak RSS is per workload and per library), and the
rounds interleave the libraries: round r runs every workload and thread count for each side
in turn, alternating which side goes first, so load from elsewhere on the machine hits both.
A cell is the median over rounds of each process's median µs per step.

Bars (issue 18): the scalar rows and the tiny MLPs as ratios to libtorch, the BLAS-bound rows
as a share of the GEMM-only floor (bench/compare_gemm.cpp), the tiny graph as instructions per
iteration under callgrind (--instructions, via bench/count_instructions), and on every row peak
RSS no more than libtorch's.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

# (name, label, steps, warmup, bars): steps sized so one libtorch process runs about a second.
# bars maps a thread count (or "*" for any) to (kind, target): "ratio" = tapegrad at least
# target × libtorch's speed, "gemm" = at least target % of the GEMM-only floor's speed,
# "instructions" = at most target instructions per iteration under callgrind. A thread count
# without a bar gets none (softmax at 2 threads: issue 18 sets only the 1-thread bar).
WORKLOADS = [
    ("tiny_sgd", "tiny MLP 2-16-1 b32, SGD", 5000, 500, {"*": ("ratio", 25.0)}),
    ("tiny_adam", "tiny MLP 2-16-1 b32, Adam", 5000, 500, {"*": ("ratio", 40.0)}),
    ("logistic", "logistic 784-1 b64, BCE-logits, SGD", 5000, 500, {"*": ("gemm", 85.0)}),
    ("softmax", "softmax 784-10 b64, CE, SGD", 4000, 400, {1: ("gemm", 92.0)}),
    ("mlp128", "MLP 784-128-10 b64, ReLU, CE, SGD", 1500, 100, {"*": ("gemm", 92.0)}),
    ("mlp1024", "MLP 784-1024-1024-10 b256, ReLU, CE, SGD", 30, 3,
     {1: ("gemm", 95.0), 2: ("gemm", 92.0)}),
    ("chain1000", "chain of 1000 scalar ops, fwd+bwd", 300, 30, {"*": ("ratio", 35.0)}),
    ("tiny_graph", "tiny graph (micrograd expr), f64, per iteration", 10000, 1000,
     {"*": ("instructions", 7000)}),
]
CHAIN_OPS = 1000
SCALAR = {"chain1000", "tiny_graph"}  # no GEMMs, and the same program with or without tg::nn
# Fashion-MNIST (issue 18): s/epoch at most this × libtorch's, by thread count; at least
# FASHION_GEMM % of the epoch's GEMM-only time; peak RSS at most FASHION_RSS_MB.
FASHION_RATIO = {1: 0.75, 2: 0.25}
FASHION_GEMM = 85.0
FASHION_RSS_MB = 300
FASHION_ACCURACY = 0.88  # the first round's bar, kept so that a fast but broken run fails


def load_average():
    return os.getloadavg()[0]


def run_one(binary, workload, threads, steps, warmup, extra=()):
    # The same thread environment for every side: libtorch reads OMP_NUM_THREADS for its
    # OpenMP pool and both libraries share Debian's OpenBLAS, which reads OPENBLAS_NUM_THREADS.
    # Each program also sets its threads through its own API (tg::set_num_threads,
    # torch::set_num_threads + at::set_num_interop_threads, openblas_set_num_threads).
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    cmd = [binary, *extra, "--workload", workload, "--threads", str(threads),
           "--steps", str(steps), "--warmup", str(warmup)]
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def fmt_us(us):
    return f"{us:,.0f}" if us >= 100 else f"{us:.1f}" if us >= 10 else f"{us:.2f}"


def fmt_rate(per_s):
    return f"{per_s:,.0f}"


def count_instructions(build, names, raw_log):
    """{workload: result} from bench/count_instructions, or None without valgrind."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "count_instructions")
    if not shutil.which("valgrind") or not names:
        return None
    out = subprocess.run([sys.executable, script, "--build", build, "--workloads", ",".join(names),
                          "--json"], check=True, capture_output=True, text=True).stdout
    counts = json.loads(out.strip().splitlines()[-1])
    for name, result in counts.items():
        raw_log.append(dict(result, side="tapegrad", workload=name, kind="instructions"))
        print(f"callgrind {name}: {result['per_iteration']:,.0f} instructions per iteration",
              file=sys.stderr)
    return counts


def fashion_table(fashion_tg, fashion_th, gemm, thread_counts, epochs, scale, raw_log):
    """Fashion-MNIST MLP 784-256-128-10, Adam, batch 128: median s/epoch and test accuracy."""
    have_torch = os.path.exists(fashion_th)
    lines = ["| Fashion-MNIST 784-256-128-10, Adam 1e-3, b128 | thr | tapegrad s/epoch | "
             "libtorch s/epoch | tapegrad / libtorch time | GEMM-only s/epoch | "
             "tapegrad % of GEMM-only | test acc. tapegrad / libtorch "
             f"({epochs} epochs) | peak RSS MB tapegrad / libtorch | bar |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for threads in thread_counts:
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
        res = {}
        for side, binary in [("tapegrad", fashion_tg), ("libtorch", fashion_th)]:
            if side == "libtorch" and not have_torch:
                continue
            out = subprocess.run([binary, "--threads", str(threads), "--epochs", str(epochs)],
                                 env=env, check=True, capture_output=True, text=True).stdout
            res[side] = json.loads(out.strip().splitlines()[-1])
            raw_log.append(dict(res[side], side=side, workload="fashion"))
            print(f"fashion {side} t={threads}: {res[side]}", file=sys.stderr)
        # The epoch's GEMM-only time: 468 steps of 128 and one of 96 (compare_gemm's epoch_us).
        floor = run_one(gemm, "fashion", threads, max(5, int(100 * scale)), max(1, int(5 * scale)))
        raw_log.append(dict(floor, side="gemm", workload="fashion"))
        gemm_s = floor["epoch_us"] / 1e6
        print(f"fashion gemm t={threads}: {gemm_s:.3f} s/epoch", file=sys.stderr)
        tg = res["tapegrad"]
        th = res.get("libtorch")
        tg_mb = tg["peak_rss_kb"] / 1024
        share = 100 * gemm_s / tg["s_per_epoch"]
        checks = []
        if th:
            time_ratio = tg["s_per_epoch"] / th["s_per_epoch"]
            if threads in FASHION_RATIO:
                checks.append((f"time ≤ {FASHION_RATIO[threads]:g}× libtorch",
                               time_ratio <= FASHION_RATIO[threads]))
        checks.append((f"≥ {FASHION_GEMM:g}% of GEMM-only", share >= FASHION_GEMM))
        checks.append((f"peak RSS ≤ {FASHION_RSS_MB} MB", tg_mb <= FASHION_RSS_MB))
        if th:
            checks.append(("RSS ≤ libtorch", tg["peak_rss_kb"] <= th["peak_rss_kb"]))
        checks.append((f"acc ≥ {FASHION_ACCURACY:g}", tg["test_accuracy"] >= FASHION_ACCURACY))
        bar = "; ".join(f"{text}: **{'met' if ok else 'not met'}**" for text, ok in checks)
        if th:
            lines.append(
                f"| | {threads} | {tg['s_per_epoch']:.2f} | {th['s_per_epoch']:.2f} | {time_ratio:.2f} | "
                f"{gemm_s:.2f} | {share:.0f}% | "
                f"{tg['test_accuracy']:.3f} / {th['test_accuracy']:.3f} | "
                f"{tg_mb:.0f} / {th['peak_rss_kb'] / 1024:.0f} | {bar} |")
        else:
            lines.append(f"| | {threads} | {tg['s_per_epoch']:.2f} | – | – | {gemm_s:.2f} | {share:.0f}% | "
                         f"{tg['test_accuracy']:.3f} / – | {tg_mb:.0f} / – | {bar} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build", default="build-bench", help="the CMake build directory")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--workloads", default=",".join(w[0] for w in WORKLOADS))
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every step count")
    parser.add_argument("--wait-load", type=float, default=0.0,
                        help="before starting, wait (up to 10 min) for the 1-min load to drop below this")
    parser.add_argument("--json", help="also write every raw measurement here")
    parser.add_argument("--fashion-epochs", type=int, default=5,
                        help="epochs of the Fashion-MNIST comparison (0 skips it)")
    parser.add_argument("--instructions", action="store_true",
                        help="also count instructions per iteration of the scalar workloads "
                             "under callgrind (bench/count_instructions; needs valgrind)")
    args = parser.parse_args()

    bench_dir = os.path.join(args.build, "bench")
    tapegrad = os.path.join(bench_dir, "compare_tapegrad")
    libtorch = os.path.join(bench_dir, "compare_libtorch")
    gemm = os.path.join(bench_dir, "compare_gemm")
    have_torch = os.path.exists(libtorch)
    thread_counts = [int(t) for t in args.threads.split(",")]
    wanted = args.workloads.split(",")
    unknown = [n for n in wanted if n not in [w[0] for w in WORKLOADS]]
    if unknown:
        sys.exit(f"unknown workload(s) {unknown}; choose from {[w[0] for w in WORKLOADS]}")
    chosen = [w for w in WORKLOADS if w[0] in wanted]

    # The nn-based tapegrad program labels itself "tapegrad"; a build without tg::nn falls back
    # to raw autograd ops and says "tapegrad-raw". With nn, the raw variant runs too.
    probe = run_one(tapegrad, "tiny_sgd", 1, 10, 1)
    have_nn = probe["impl"] == "tapegrad"
    sides = [("tapegrad", tapegrad, ())]
    if have_nn:
        sides.append(("raw", tapegrad, ("--impl", "raw")))
    if have_torch:
        sides.append(("libtorch", libtorch, ()))

    if args.wait_load > 0:
        deadline = time.time() + 600
        while load_average() > args.wait_load and time.time() < deadline:
            print(f"load {load_average():.2f} > {args.wait_load}: waiting", file=sys.stderr)
            time.sleep(30)
    load_start = load_average()
    started = time.time()

    results = {}  # (side, workload, threads) -> list of per-process results
    raw_log = []
    for r in range(args.rounds):
        for name, _, steps, warmup, _ in chosen:
            steps = max(5, int(steps * args.scale))
            warmup = max(1, int(warmup * args.scale))
            for threads in thread_counts:
                order = sides if r % 2 == 0 else list(reversed(sides))
                runs = [(s, b, e) for s, b, e in order if not (s == "raw" and name in SCALAR)]
                if name not in SCALAR:
                    runs.append(("gemm", gemm, ()))
                for side, binary, extra in runs:
                    res = run_one(binary, name, threads, steps, warmup, extra)
                    results.setdefault((side, name, threads), []).append(res)
                    raw_log.append(dict(res, side=side, round=r))
                    print(f"round {r + 1}/{args.rounds} {side:9s} {name:9s} t={threads} "
                          f"median {res['median_us']:.2f} us", file=sys.stderr)
    elapsed = time.time() - started
    load_end = load_average()
    counts = None
    if args.instructions:
        counts = count_instructions(args.build, [n for n, *_ in chosen if n in SCALAR], raw_log)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(raw_log, f, indent=1)

    def median_us(side, name, threads):
        runs = results.get((side, name, threads))
        return statistics.median(x["median_us"] for x in runs) if runs else None

    def peak_mb(side, name, threads):
        runs = results.get((side, name, threads))
        return max(x["peak_rss_kb"] for x in runs) / 1024 if runs else None

    header = ["workload", "thr", "tapegrad µs/step", "tapegrad steps/s", "libtorch µs/step",
              "libtorch steps/s", "tapegrad / libtorch", "GEMM-only µs", "tapegrad % of GEMM-only",
              "libtorch % of GEMM-only", "peak RSS MB tapegrad / libtorch", "bar"]
    if have_nn:
        header.insert(4, "raw ops µs/step")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(["---"] * len(header)) + "|")
    for name, label, _, _, bars in chosen:
        for threads in thread_counts:
            tg = median_us("tapegrad", name, threads)
            th = median_us("libtorch", name, threads)
            gm = median_us("gemm", name, threads)
            raw = median_us("raw", name, threads)
            ratio = th / tg if th else None
            tg_gemm = 100 * gm / tg if gm else None
            th_gemm = 100 * gm / th if gm and th else None
            # The scalar rows also say ns per op (chain) or per iteration (tiny graph).
            unit = {"chain1000": (CHAIN_OPS, "ns/op"), "tiny_graph": (1, "ns/iter")}.get(name)

            def with_ns(us):
                return f"{fmt_us(us)} ({us * 1000 / unit[0]:,.0f} {unit[1]})" if unit else fmt_us(us)

            cells = [label, str(threads), with_ns(tg), fmt_rate(1e6 / tg)]
            if have_nn:
                cells.append(fmt_us(raw) if raw else "–")
            if th is None:
                cells += ["–", "–", "–"]
            else:
                cells += [with_ns(th), fmt_rate(1e6 / th),
                          f"{ratio:.1f}×" if unit else f"{ratio:.2f}×"]
            cells += [fmt_us(gm) if gm else "–", f"{tg_gemm:.0f}%" if tg_gemm else "–",
                      f"{th_gemm:.0f}%" if th_gemm else "–"]
            mem_tg, mem_th = peak_mb("tapegrad", name, threads), peak_mb("libtorch", name, threads)
            cells.append(f"{mem_tg:.1f} / {mem_th:.1f}" if mem_th else f"{mem_tg:.1f} / –")

            bar = bars.get(threads, bars.get("*"))
            parts = []
            if bar is None:
                parts.append("no speed bar at this thread count")
            else:
                kind, target = bar
                if kind == "ratio":
                    ok = None if ratio is None else ratio >= target
                    text = f"≥ {target:g}× libtorch"
                elif kind == "gemm":
                    ok = None if tg_gemm is None else tg_gemm >= target
                    text = f"≥ {target:g}% of GEMM-only"
                else:
                    ins = counts[name]["per_iteration"] if counts and name in counts else None
                    ok = None if ins is None else ins <= target
                    text = (f"≤ {target:,.0f} instructions/iter (≈ 3× BurTorch plain): "
                            + (f"{ins:,.0f} counted" if ins is not None else "not counted"))
                verdict = "met" if ok else "not met" if ok is not None else "unknown"
                parts.append(f"{text}: **{verdict}**")
            if mem_th:
                parts.append(f"RSS ≤ libtorch: **{'met' if mem_tg <= mem_th else 'not met'}**")
            cells.append("; ".join(parts))
            print("| " + " | ".join(cells) + " |")
    if args.instructions:
        print()
        if counts is None:
            print("Instructions: not counted (valgrind is not installed, or no scalar workload chosen).")
        else:
            print("Instructions per iteration, tapegrad, 1 thread, `valgrind --tool=callgrind` "
                  "(bench/count_instructions: difference of two step counts):")
            for name, result in counts.items():
                small, large = result["steps"]
                how = f"(Ir at {large:,} − Ir at {small:,} steps) / {large - small:,}"
                if name == "chain1000":
                    print(f"- chain of 1000 scalar ops: {result['per_op']:,.0f} instructions per op, "
                          f"{result['per_iteration']:,.0f} per step {how}")
                else:
                    print(f"- tiny graph (micrograd expr): {result['per_iteration']:,.0f} "
                          f"instructions per iteration {how}; bar ≤ 7,000")
    fashion_tg = os.path.join(bench_dir, "fashion_tapegrad")
    fashion_th = os.path.join(bench_dir, "fashion_libtorch")
    if args.fashion_epochs > 0 and os.path.exists(fashion_tg):
        print()
        print(fashion_table(fashion_tg, fashion_th, gemm, thread_counts, args.fashion_epochs,
                            args.scale, raw_log))
        if args.json:
            with open(args.json, "w") as f:
                json.dump(raw_log, f, indent=1)
        load_end = load_average()
    print()
    print(f"{args.rounds} interleaved rounds, {elapsed:.0f} s; 1-min load average "
          f"{load_start:.2f} at start, {load_end:.2f} at end; tapegrad "
          f"{'with tg::nn modules and losses' if have_nn else 'from raw autograd ops (tg::nn not built)'}.")


if __name__ == "__main__":
    main()
