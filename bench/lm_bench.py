#!/usr/bin/python3
"""Benchmark: language-model training throughput, genolm beside its PyTorch-Python twin.

Both train the same models on the same token corpus (3-mers of the embedded human chr22 slice),
with the same batch, sequence length, optimizer (AdamW, clipping 0.25) and thread count, in this
one run. Tokens per second are measured inside each program over the steps after a warm-up, so
process start-up, corpus building and evaluation are excluded:
  * genolm: the `tokens_per_s` of the training windows in metrics.jsonl after the first window;
  * the twin (bench/python_lm_twin.py): its own timing of the steps after --warmup-steps.
Configurations (issue 3): AWD-LSTM at fastai's size (emb 400, hidden 1152, 3 layers, batch 32,
bptt 70) in fp32 and bf16, a small AWD-LSTM (emb 128, hidden 512, 3 layers) in fp32, and a
transformer (fp32, bf16) with its share of the measured matmul peak.

Usage (from the repository root, after scripts/setup):
  /usr/bin/python3 bench/lm_bench.py [--threads 2] [--steps 30] [--repeats 2] [--only NAME]
                                     [--twin-env KEY=VALUE ...]
"""
import argparse
import json
import os
import shutil
import subprocess
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GENOLM = os.path.join(ROOT, "build", "genolm")
OUT = os.path.join(ROOT, "bench", "out", "lm")
GENOME = os.path.join(ROOT, ".cache", "genomes", "human_chr22_20-21M.fa")

CONFIGS = [
    # name, arch, emb, hidden, layers, batch, window, precision
    ("AWD-LSTM fastai size", "awd_lstm", 400, 1152, 3, 32, 70, "fp32"),
    ("AWD-LSTM fastai size", "awd_lstm", 400, 1152, 3, 32, 70, "bf16"),
    ("AWD-LSTM small", "awd_lstm", 128, 512, 3, 32, 70, "fp32"),
    ("AWD-LSTM small", "awd_lstm", 128, 512, 3, 32, 70, "bf16"),
    ("transformer 4x256", "transformer", 256, 1024, 4, 16, 256, "fp32"),
    ("transformer 4x256", "transformer", 256, 1024, 4, 16, 256, "bf16"),
]
HEADS = 4


def run_genolm(name, arch, emb, hidden, layers, batch, window, precision, threads, steps, corpus):
    run_dir = os.path.join(OUT, "runs")
    run_name = f"{arch}_{emb}_{precision}"
    shutil.rmtree(os.path.join(run_dir, run_name), ignore_errors=True)
    log_every = max(1, steps // 3)
    sets = {
        "run.dir": run_dir, "run.name": run_name, "data.corpus": corpus,
        "model.arch": arch, "model.emb_size": emb, "model.hidden_size": hidden,
        "model.layers": layers, "model.heads": HEADS, "model.context": window,
        "train.batch_size": batch, "train.bptt": window, "train.random_bptt": "false",
        "train.precision": precision, "train.schedule": "constant", "train.lr": 2e-3,
        "train.max_steps": log_every * 4, "train.log_every": log_every,
        "train.eval_every": 100000, "train.eval_tokens": 1000,
        "train.checkpoint_every": 100000,
    }
    command = [GENOLM, "--threads", str(threads), "--log-level", "warn", "pretrain"]
    for key, value in sets.items():
        command += ["--set", f"{key}={value}"]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    rows = [json.loads(line) for line in open(os.path.join(run_dir, run_name, "metrics.jsonl"))]
    train = [r for r in rows if r["split"] == "train"][1:]  # the first window warms up
    speed = sum(r["tokens_per_s"] for r in train) / len(train)
    loader = min(r.get("loader_tokens_per_s", float("nan")) for r in train)
    return speed, loader


def run_twin(arch, emb, hidden, layers, batch, window, precision, threads, steps, corpus, env):
    command = ["/usr/bin/python3", os.path.join(ROOT, "bench", "python_lm_twin.py"),
               "--corpus", corpus, "--arch", arch, "--emb", str(emb), "--hidden", str(hidden),
               "--layers", str(layers), "--heads", str(HEADS), "--context", str(window),
               "--bptt", str(window), "--batch", str(batch), "--threads", str(threads),
               "--precision", precision, "--warmup-steps", "3", "--steps", str(steps)]
    result = subprocess.run(command, check=True, capture_output=True, text=True,
                            env=dict(os.environ, **env))
    return json.loads(result.stdout.strip().splitlines()[-1])


def matmul_peak(dtype, threads):
    torch.set_num_threads(threads)
    a = torch.randn(2048, 2048).to(dtype)
    b = torch.randn(2048, 2048).to(dtype)
    for _ in range(3):
        a @ b
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * 2048 ** 3 / best


def transformer_flops_per_token(emb, hidden, layers, window):
    # Training = 3x the forward: 2 FLOPs per weight per token forward, plus attention scores and
    # their weighted sum (2 * 2 * window * emb per layer per token, halved by the causal mask in
    # principle but computed in full by the fused kernel on CPU).
    weights = layers * (4 * emb * emb + 2 * emb * hidden)
    attention = layers * 4 * window * emb
    return 3 * (2 * weights + attention)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--only", default="", help="run the configurations whose name has this")
    parser.add_argument("--repeats", type=int, default=1,
                        help="alternate genolm and the twin this many times; keep each one's best")
    parser.add_argument("--twin-env", action="append", default=[], metavar="KEY=VALUE",
                        help="set this in the twin's environment only (e.g. GLIBC_TUNABLES="
                             "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=2147483647, "
                             "the heap setting genolm applies to itself while training)")
    args = parser.parse_args()
    twin_env = dict(item.split("=", 1) for item in args.twin_env)
    os.makedirs(OUT, exist_ok=True)
    corpus = os.path.join(OUT, "corpus")
    if not os.path.exists(os.path.join(corpus, "corpus.json")):
        subprocess.run([GENOLM, "--log-level", "warn", "corpus", "--input", GENOME, "--out", corpus,
                        "--overwrite"], check=True, stdout=subprocess.DEVNULL)

    peaks = {"fp32": matmul_peak(torch.float32, args.threads),
             "bf16": matmul_peak(torch.bfloat16, args.threads)}
    results = []
    twin_fp32 = {}
    for name, arch, emb, hidden, layers, batch, window, precision in CONFIGS:
        if args.only not in name:
            continue
        # Alternating the two and keeping each one's best evens out a shared machine's noise.
        genolm, loader, twin = 0.0, float("inf"), None
        for _ in range(args.repeats):
            speed, load = run_genolm(name, arch, emb, hidden, layers, batch, window, precision,
                                     args.threads, args.steps, corpus)
            genolm, loader = max(genolm, speed), min(loader, load)
            result = run_twin(arch, emb, hidden, layers, batch, window, precision, args.threads,
                              args.steps, corpus, twin_env)
            if twin is None or result["tokens_per_s"] > twin["tokens_per_s"]:
                twin = result
        if precision == "fp32":
            twin_fp32[(arch, emb)] = twin["tokens_per_s"]
        row = {"config": name, "precision": precision, "genolm_tokens_per_s": genolm,
               "twin_tokens_per_s": twin["tokens_per_s"], "ratio": genolm / twin["tokens_per_s"],
               "ratio_to_twin_fp32": genolm / twin_fp32.get((arch, emb), float("nan")), "params": twin["params"],
               "loader_tokens_per_s": loader, "loader_over_training": loader / genolm}
        if arch == "transformer":
            flops = transformer_flops_per_token(emb, hidden, layers, window) * genolm
            row["mfu"] = flops / peaks[precision]
        results.append(row)
        print(json.dumps(row), flush=True)

    if twin_env:
        print(f"\ntwin environment: {twin_env}")
    print(f"\nthreads {args.threads}; matmul peak 2048^3: fp32 {peaks['fp32'] / 1e9:.0f} GFLOP/s, "
          f"bf16 {peaks['bf16'] / 1e9:.0f} GFLOP/s\n")
    print("| model | precision | genolm tokens/s | twin tokens/s | genolm / twin | "
          "genolm / twin fp32 | share of matmul peak | loader / training |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        mfu = f"{100 * r['mfu']:.0f}%" if "mfu" in r else "-"
        print(f"| {r['config']} | {r['precision']} | {r['genolm_tokens_per_s']:.0f} | "
              f"{r['twin_tokens_per_s']:.0f} | {r['ratio']:.2f} | {r['ratio_to_twin_fp32']:.2f} | "
              f"{mfu} | {r['loader_over_training']:.0f}x |")
    with open(os.path.join(OUT, "results.json"), "w") as handle:
        json.dump({"threads": args.threads, "peaks": peaks, "twin_env": twin_env,
                   "results": results}, handle, indent=2)


if __name__ == "__main__":
    main()
