#!/usr/bin/env python3
"""Runs tapegrad, libtorch and the GEMM-only floor side by side and prints one markdown table.

Every measurement is its own process (so peak RSS is per workload and per library), and the
rounds interleave the libraries: round r runs every workload and thread count for each side
in turn, alternating which side goes first, so load from elsewhere on the machine hits both.
A cell is the median over rounds of each process's median µs per step.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

# (name, label, steps, warmup, bar): steps sized so one libtorch process runs about a second.
WORKLOADS = [
    ("tiny_sgd", "tiny MLP 2-16-1 b32, SGD", 5000, 500, ("ratio", 5.0)),
    ("tiny_adam", "tiny MLP 2-16-1 b32, Adam", 5000, 500, ("ratio", 5.0)),
    ("logistic", "logistic 784-1 b64, BCE-logits, SGD", 5000, 500, ("ratio", 4.0)),
    ("softmax", "softmax 784-10 b64, CE, SGD", 4000, 400, ("ratio", 2.5)),
    ("mlp128", "MLP 784-128-10 b64, ReLU, CE, SGD", 1500, 100, ("gemm", 85.0)),
    ("mlp1024", "MLP 784-1024-1024-10 b256, ReLU, CE, SGD", 30, 3, ("gemm", 90.0)),
    ("chain1000", "chain of 1000 scalar ops, fwd+bwd", 300, 30, ("ns_per_op", 300.0)),
]
CHAIN_OPS = 1000


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


def fashion_table(fashion_tg, fashion_th, thread_counts, epochs, raw_log):
    """Fashion-MNIST MLP 784-256-128-10, Adam, batch 128: median s/epoch and test accuracy."""
    have_torch = os.path.exists(fashion_th)
    lines = ["| Fashion-MNIST 784-256-128-10, Adam 1e-3, b128 | thr | tapegrad s/epoch | "
             "libtorch s/epoch | tapegrad / libtorch time | test acc. tapegrad / libtorch "
             f"({epochs} epochs) | peak RSS MB tapegrad / libtorch | bar |",
             "|---|---|---|---|---|---|---|---|"]
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
        tg = res["tapegrad"]
        th = res.get("libtorch")
        if th:
            time_ratio = tg["s_per_epoch"] / th["s_per_epoch"]
            ok = tg["test_accuracy"] >= 0.88 and time_ratio <= 0.8
            lines.append(
                f"| | {threads} | {tg['s_per_epoch']:.2f} | {th['s_per_epoch']:.2f} | {time_ratio:.2f} | "
                f"{tg['test_accuracy']:.3f} / {th['test_accuracy']:.3f} | "
                f"{tg['peak_rss_kb'] / 1024:.0f} / {th['peak_rss_kb'] / 1024:.0f} | "
                f"acc ≥ 0.88 and time ≤ 0.8× libtorch: **{'met' if ok else 'not met'}** |")
        else:
            lines.append(f"| | {threads} | {tg['s_per_epoch']:.2f} | – | – | {tg['test_accuracy']:.3f} / – "
                         f"| {tg['peak_rss_kb'] / 1024:.0f} / – | – |")
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
    args = parser.parse_args()

    bench_dir = os.path.join(args.build, "bench")
    tapegrad = os.path.join(bench_dir, "compare_tapegrad")
    libtorch = os.path.join(bench_dir, "compare_libtorch")
    gemm = os.path.join(bench_dir, "compare_gemm")
    have_torch = os.path.exists(libtorch)
    thread_counts = [int(t) for t in args.threads.split(",")]
    chosen = [w for w in WORKLOADS if w[0] in args.workloads.split(",")]

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
                runs = [(s, b, e) for s, b, e in order]
                if name != "chain1000":
                    runs.append(("gemm", gemm, ()))
                for side, binary, extra in runs:
                    res = run_one(binary, name, threads, steps, warmup, extra)
                    results.setdefault((side, name, threads), []).append(res)
                    raw_log.append(dict(res, side=side, round=r))
                    print(f"round {r + 1}/{args.rounds} {side:9s} {name:9s} t={threads} "
                          f"median {res['median_us']:.2f} us", file=sys.stderr)
    elapsed = time.time() - started
    load_end = load_average()
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
    for name, label, _, _, bar in chosen:
        for threads in thread_counts:
            tg = median_us("tapegrad", name, threads)
            th = median_us("libtorch", name, threads)
            gm = median_us("gemm", name, threads)
            raw = median_us("raw", name, threads)
            ratio = th / tg if th else None
            tg_gemm = 100 * gm / tg if gm else None
            th_gemm = 100 * gm / th if gm and th else None
            cells = [label, str(threads)]
            if name == "chain1000":
                cells += [f"{fmt_us(tg)} ({tg * 1000 / CHAIN_OPS:.0f} ns/op)", fmt_rate(1e6 / tg)]
            else:
                cells += [fmt_us(tg), fmt_rate(1e6 / tg)]
            if have_nn:
                cells.append(fmt_us(raw))
            if th is None:
                cells += ["–", "–", "–"]
            elif name == "chain1000":
                cells += [f"{fmt_us(th)} ({th * 1000 / CHAIN_OPS:.0f} ns/op)", fmt_rate(1e6 / th),
                          f"{ratio:.1f}×"]
            else:
                cells += [fmt_us(th), fmt_rate(1e6 / th), f"{ratio:.2f}×"]
            cells += [fmt_us(gm) if gm else "–", f"{tg_gemm:.0f}%" if tg_gemm else "–",
                      f"{th_gemm:.0f}%" if th_gemm else "–"]
            mem_tg, mem_th = peak_mb("tapegrad", name, threads), peak_mb("libtorch", name, threads)
            cells.append(f"{mem_tg:.1f} / {mem_th:.1f}" if mem_th else f"{mem_tg:.1f} / –")

            kind, target = bar
            if kind == "ratio":
                ok = ratio is not None and ratio >= target
                text = f"≥ {target:g}× libtorch"
            elif kind == "gemm":
                ok = tg_gemm >= target
                text = f"≥ {target:g}% of GEMM-only"
            else:
                ok = tg * 1000 / CHAIN_OPS <= target
                text = f"≤ {target:g} ns/op"
            verdict = "met" if ok else "not met"
            if mem_th:
                verdict += "; RSS ≤ libtorch " + ("met" if mem_tg <= mem_th else "not met")
            cells.append(f"{text}: **{verdict}**")
            print("| " + " | ".join(cells) + " |")
    fashion_tg = os.path.join(bench_dir, "fashion_tapegrad")
    fashion_th = os.path.join(bench_dir, "fashion_libtorch")
    if args.fashion_epochs > 0 and os.path.exists(fashion_tg):
        print()
        print(fashion_table(fashion_tg, fashion_th, thread_counts, args.fashion_epochs, raw_log))
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
