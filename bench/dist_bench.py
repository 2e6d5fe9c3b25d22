#!/usr/bin/python3
"""Data-parallel overhead on one machine: two Gloo ranks of one thread each against one process
of two threads, the same recipe and global batch (so the same work per step).

Reports, for each configuration, the training throughput (tokens/s of the global batch, measured
by genolm between log lines, evaluation excluded) and, for the two ranks, the share of rank 0's
training time spent blocked on communication (metrics.jsonl's comm_wait_s over wall_s).

  /usr/bin/python3 bench/dist_bench.py [--steps 200] [--repeats 2] [--precision fp32]

Run it alone on the machine: OpenMP threads of other programs distort every number.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GENOLM = os.path.join(ROOT, "build", "genolm")
GENOME = os.path.join(ROOT, ".cache", "genomes", "ecoli_536_NC_008253.fna.gz")


def recipe(path, steps, precision, emb, hidden):
    with open(path, "w") as out:
        out.write(f"""[run]
name = "bench"
seed = 1
[data]
train = ["{GENOME}"]
valid_fraction = 0.01
[model]
emb_size = {emb}
hidden_size = {hidden}
layers = 3
drop_mult = 0.3
[train]
batch_size = 32
bptt = 70
lr = 3e-3
max_steps = {steps}
precision = "{precision}"
log_every = 10
eval_every = 100000
checkpoint_every = 100000
""")


def run(command, env):
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{result.stderr[-2000:]}")


def measure(run_dir, warmup):
    rows = [json.loads(line) for line in open(os.path.join(run_dir, "metrics.jsonl"))]
    train = [r for r in rows if r["split"] == "train" and r["step"] > warmup]
    tokens_per_s = statistics.median(r["tokens_per_s"] for r in train)
    first, last = train[0], train[-1]
    wait = last.get("comm_wait_s", 0.0) - first.get("comm_wait_s", 0.0)
    wall = last["wall_s"] - first["wall_s"]
    return tokens_per_s, wait / wall if wall > 0 else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--emb", type=int, default=128)
    parser.add_argument("--hidden", type=int, default=512)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="genolm-dist-bench-")
    recipe_file = os.path.join(work, "bench.toml")
    recipe(recipe_file, args.steps, args.precision, args.emb, args.hidden)
    env = dict(os.environ)
    corpus = os.path.join(work, "corpus")
    run([GENOLM, "corpus", "--config", recipe_file, "--out", corpus], env)
    single, double, waits = [], [], []
    for repeat in range(args.repeats):
        for ranks in (1, 2):
            run_dir = os.path.join(work, f"r{ranks}-{repeat}")
            common = ["--config", recipe_file, "--set", f"run.dir={run_dir}", "--set",
                      f"data.corpus={corpus}"]
            if ranks == 1:
                run([GENOLM, "--threads", "2", "--log-level", "warn", "pretrain"] + common, env)
            else:
                run([GENOLM, "--threads", "1", "--log-level", "warn", "launch", "--nproc", "2",
                     "--master-port", str(29600 + repeat), "--", "pretrain"] + common, env)
            tokens_per_s, wait = measure(os.path.join(run_dir, "bench"), args.warmup)
            (single if ranks == 1 else double).append(tokens_per_s)
            if ranks == 2:
                waits.append(wait)
            print(f"repeat {repeat}: {ranks} {'rank' if ranks == 1 else 'ranks'}: "
                  f"{tokens_per_s:.0f} tokens/s" +
                  (f", rank 0 waits on communication {100 * wait:.1f}% of its time"
                   if ranks == 2 else ""), flush=True)
    best_single, best_double = max(single), max(double)
    result = {"model": f"AWD-LSTM {args.emb}-{args.hidden}-{args.hidden}-{args.emb}, 3-mers",
              "precision": args.precision, "batch": "32 x 70", "steps": args.steps,
              "single_2threads_tokens_per_s": round(best_single),
              "two_ranks_1thread_tokens_per_s": round(best_double),
              "ratio": round(best_double / best_single, 3),
              "comm_wait_share": round(min(waits), 4)}
    print(json.dumps(result))
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
