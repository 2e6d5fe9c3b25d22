#!/usr/bin/python3
"""Benchmark (issue 14, load): what two genolm trainings started on one machine keep of the
throughput each has alone, under each OpenMP wait policy.

Each program is the quick start's pretraining (small AWD-LSTM, 3-mers of the embedded chr22 slice,
batch 32 x 70, bf16) for a fixed number of steps with every core the machine has (genolm's
default), reading a corpus built once beforehand. Tokens per second come from metrics.jsonl: the
mean `tokens_per_s` of the train rows after the first (start-up and the first window excluded).
For each policy: one run alone, then two identical runs started together; the figure is each
concurrent run's tokens/s over the lone run's. Policies: genolm's default (`genolm` sets
GOMP_SPINCOUNT=1000 for genolm-train when neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set), and
OMP_WAIT_POLICY=active and =passive set by hand. Any GOMP_SPINCOUNT in this script's environment
is passed on (to try other spin counts).
Goal (issue 14): each of two concurrent runs keeps at least 40% of its lone throughput.

Usage (from the repository root, on an otherwise idle machine, after scripts/setup):
  /usr/bin/python3 bench/load_bench.py [--steps 120] [--genolm build/genolm]
"""
import argparse
import json
import os
import shutil
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out", "load")
RECIPE = os.path.join(ROOT, "configs", "quickstart", "chr22_awd_lstm.toml")
POLICIES = [("default", "genolm default", None), ("active", "active", "active"),
            ("passive", "passive", "passive")]


def environment(policy):
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    env.pop("OMP_NUM_THREADS", None)
    if policy is not None:
        env.pop("GOMP_SPINCOUNT", None)
    if policy is not None:
        env["OMP_WAIT_POLICY"] = policy
    return env


def start(genolm, name, corpus, steps, policy):
    run_dir = os.path.join(OUT, "runs")
    shutil.rmtree(os.path.join(run_dir, name), ignore_errors=True)
    log_every = max(1, steps // 6)
    command = [genolm, "--log-level", "warn", "pretrain", "--config", RECIPE,
               "--set", f"run.dir={run_dir}", "--set", f"run.name={name}",
               "--set", f"data.corpus={corpus}", "--set", f"train.max_steps={steps}",
               "--set", f"train.log_every={log_every}", "--set", "train.eval_every=100000",
               "--set", "train.checkpoint_every=100000", "--set", "train.eval_tokens=1000"]
    return subprocess.Popen(command, cwd=ROOT, env=environment(policy),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def tokens_per_second(process, name):
    _, err = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"{name} failed ({process.returncode}): {err.strip()}")
    rows = [json.loads(line) for line in open(os.path.join(OUT, "runs", name, "metrics.jsonl"))]
    train = [r["tokens_per_s"] for r in rows if r.get("split") == "train" and "tokens_per_s" in r]
    if len(train) < 2:
        raise SystemExit(f"{name}: fewer than two train rows in metrics.jsonl")
    return sum(train[1:]) / len(train[1:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--genolm", default=os.path.join(ROOT, "build", "genolm"))
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--policies", default="default,active,passive",
                        help="which rows to run, of default, active and passive (active spins: "
                             "two at once on few cores may take many minutes)")
    args = parser.parse_args()
    chosen = args.policies.split(",")
    os.makedirs(OUT, exist_ok=True)
    corpus = os.path.join(OUT, "corpus")
    if not os.path.exists(os.path.join(corpus, "corpus.json")):
        subprocess.run([args.genolm, "--log-level", "warn", "corpus", "--config", RECIPE,
                        "--out", corpus, "--overwrite"], cwd=ROOT, check=True)
    rows = []
    for key, label, policy in POLICIES:
        if key not in chosen:
            continue
        alone = tokens_per_second(start(args.genolm, "alone", corpus, args.steps, policy), "alone")
        pair = [start(args.genolm, f"pair{i}", corpus, args.steps, policy) for i in (1, 2)]
        together = [tokens_per_second(p, f"pair{i}") for i, p in zip((1, 2), pair)]
        rows.append((label, alone, together))
        print(f"{label}: alone {alone:,.0f} tokens/s; together {together[0]:,.0f} and "
              f"{together[1]:,.0f} ({together[0] / alone:.0%}, {together[1] / alone:.0%})",
              flush=True)
    print(f"\n{os.cpu_count()} cores, {args.steps} steps per run, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print("| OMP_WAIT_POLICY | alone tokens/s | two at once, each | kept |")
    print("|---|---|---|---|")
    for label, alone, together in rows:
        print(f"| {label} | {alone:,.0f} | {together[0]:,.0f} / {together[1]:,.0f} | "
              f"{together[0] / alone:.0%} / {together[1] / alone:.0%} |")


if __name__ == "__main__":
    main()
