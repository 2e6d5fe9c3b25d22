#!/usr/bin/python3
"""Benchmark: tokenizing and building a corpus from a large FASTA, genolm beside its Python twin.

Makes a FASTA of about --mbp million bases from copies of the embedded E. coli genome (80-column
lines, one record per copy), then times, end to end and in this one run:
  * `genolm corpus` with a 3-mer stride-1 tokenizer, on one core (pinned with taskset, so reader,
    tokenizer and writer threads share it) and with every core;
  * bench/python_kmer_twin.py, which tokenizes the way Genomic-ULMFiT does (pure-Python k-mers and
    a dict lookup) and writes the same uint16 ids.
It checks that both wrote the same tokens, and reports wall seconds (best of --repeats), MB/s of
FASTA, and the ratio. genolm is also timed on a file a fifth the size, so its throughput net of
process start-up is the size difference over the time difference.

Usage (from the repository root, after scripts/setup):
  /usr/bin/python3 bench/corpus_bench.py [--mbp 50] [--repeats 3]
"""
import argparse
import filecmp
import gzip
import json
import os
import platform
import shutil
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GENOLM = os.path.join(ROOT, "build", "genolm")
OUT = os.path.join(ROOT, "bench", "out", "corpus")
GENOME = os.path.join(ROOT, ".cache", "genomes", "ecoli_536_NC_008253.fna.gz")


def read_genome(path):
    with gzip.open(path, "rt") as handle:
        return "".join(line.strip() for line in handle if not line.startswith(">"))


def make_fasta(path, genome, bases):
    if os.path.exists(path):
        return
    with open(path + ".partial", "w") as out:
        copy = 0
        while bases > 0:
            piece = genome[: min(len(genome), bases)]
            out.write(f">ecoli_536_copy{copy}\n")
            for i in range(0, len(piece), 80):
                out.write(piece[i:i + 80] + "\n")
            bases -= len(piece)
            copy += 1
    os.rename(path + ".partial", path)


def timed(command):
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def time_genolm(fasta, tokenizer, threads, pinned, repeats):
    out = os.path.join(OUT, f"corpus_t{threads}")
    command = [GENOLM, "--threads", str(threads), "--log-level", "warn", "corpus",
               "--tokenizer", tokenizer, "--input", fasta, "--out", out,
               "--valid-fraction", "0", "--set", "data.n_run_split=0"]
    if pinned:
        command = ["taskset", "-c", "0"] + command
    best = float("inf")
    for _ in range(repeats):
        shutil.rmtree(out, ignore_errors=True)
        os.sync()  # no write-back of the last run's output may overlap this one
        best = min(best, timed(command))
    return best, out


def cpu_name():
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mbp", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)

    genome = read_genome(GENOME)
    big = os.path.join(OUT, f"ecoli_{args.mbp}M.fa")
    small = os.path.join(OUT, f"ecoli_{args.mbp // 5}M.fa")
    make_fasta(big, genome, args.mbp * 1_000_000)
    make_fasta(small, genome, args.mbp * 1_000_000 // 5)
    big_mb, small_mb = os.path.getsize(big) / 1e6, os.path.getsize(small) / 1e6

    tokenizer = os.path.join(OUT, "k3")
    subprocess.run([GENOLM, "--log-level", "warn", "tokenizer", "train", "--kind", "kmer",
                    "--k", "3", "--stride", "1", "--out", tokenizer, "--overwrite"], check=True)

    results = {"cpu": cpu_name(), "cores": os.cpu_count(), "fasta_mb": big_mb, "runs": []}
    rows = []
    for threads, pinned in ((1, True), (os.cpu_count(), False)):
        t_small, _ = time_genolm(small, tokenizer, threads, pinned, args.repeats)
        t_big, out = time_genolm(big, tokenizer, threads, pinned, args.repeats)
        genolm_shard = os.path.join(OUT, f"genolm_t{threads}.u16")
        shutil.copy(os.path.join(out, "train-00000.u16"), genolm_shard)
        net = (big_mb - small_mb) / max(t_big - t_small, 1e-9)
        label = "1 core (taskset)" if pinned else f"{threads} threads"
        results["runs"].append({"tool": "genolm", "threads": label, "seconds": t_big,
                                "mb_per_s": big_mb / t_big, "net_mb_per_s": net})
        rows.append((f"genolm corpus, {label}", t_big, big_mb / t_big, net))

    python_out = os.path.join(OUT, "python_twin.u16")
    t_python = float("inf")
    for _ in range(min(2, args.repeats)):
        os.sync()
        t_python = min(t_python, timed(["/usr/bin/python3",
                                        os.path.join(ROOT, "bench", "python_kmer_twin.py"),
                                        big, python_out]))
    same = filecmp.cmp(python_out, os.path.join(OUT, "genolm_t1.u16"), shallow=False)
    results["runs"].append({"tool": "python twin", "seconds": t_python,
                            "mb_per_s": big_mb / t_python})
    results["identical_tokens"] = same
    rows.append(("Python twin (Genomic-ULMFiT style)", t_python, big_mb / t_python, None))

    print(f"\n{big_mb:.1f} MB FASTA ({args.mbp} Mbp, E. coli copies), 3-mers stride 1; "
          f"{cpu_name()}, {os.cpu_count()} cores; best of {args.repeats} (Python: best of {min(2, args.repeats)})\n")
    print("| tool | wall s | MB/s end to end | MB/s net of start-up | x Python |")
    print("|---|---|---|---|---|")
    for name, seconds, rate, net in rows:
        net_text = f"{net:.0f}" if net is not None else "-"
        print(f"| {name} | {seconds:.3f} | {rate:.1f} | {net_text} | {t_python / seconds:.1f} |")
    print(f"\nsame tokens from both: {same}")
    with open(os.path.join(OUT, "results.json"), "w") as handle:
        json.dump(results, handle, indent=2)
    if not same:
        raise SystemExit("genolm and the Python twin disagree")


if __name__ == "__main__":
    main()
