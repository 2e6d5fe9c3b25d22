#!/usr/bin/python3
"""Variant-effect benchmark (issue 13, deliverable 6): genolm's zero-shot scores against measured
effects, beside the published numbers of ../shared/data/README.md ("variant_effect/").

  abbibench  G6.31/VEGF (2fjg) and D44.1/HEL (1mlc) heavy-chain variants: `genolm score` of each
             heavy chain with an antibody language model; Spearman of its log-likelihood with the
             measured binding (AbBiBench's zero-shot protocol: sequence log-likelihood).
  blat       BLAT_ECOLX single mutants: `genolm mutagenesis` of the wild type with a protein
             language model; Spearman of each mutant's log-likelihood ratio with its fitness.
  cagi5      CAGI5 saturation-mutagenesis MPRA, 15 elements: `genolm mutagenesis` of each element
             (both strands averaged) with a DNA language model; per element, Pearson and Spearman
             of the ratio with the measured effect and with its absolute value.

Usage (from the repository root; each model is a pretraining run folder; a benchmark whose model
is not given is skipped and says so):
  /usr/bin/python3 bench/variant_effects.py [--antibody-lm RUN] [--protein-lm RUN] [--dna-lm RUN]
      [--bin build/genolm] [--threads 2] [--work bench/out/variant_effects] [--out FILE.md]
numpy (and bench/baselines.py, for its correlations). Wall seconds are the genolm command's.
"""
import argparse
import csv
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from baselines import pearson, spearman  # noqa: E402  (the same correlations as the baselines)

DATA = "../shared/data/variant_effect"

PUBLISHED_ABBIBENCH = {
    "2fjg": "ESM2 0.08, AntiBERTy 0.11, ProGen2-large 0.27, CurrAb 0.17, ESM-IF1 (structure) 0.55",
    "1mlc": "ESM2 0.02, AntiBERTy -0.24, ProGen2-large -0.29, CurrAb 0.16, ESM-IF1 (structure) -0.36",
}
PUBLISHED_BLAT = ("ESM-1v 0.725, ESM-1b 0.724, EVmutation 0.718, PSSM 0.614, ProtBERT-BFD 0.507, "
                  "TAPE 0.144, UniRep 0.032; ProteinGym ESM2-8M 0.399, site-independent 0.466")
# Pearson with abs(effect), Tang & Koo 2024 (zero-shot DNA language models; supervised Sei).
PUBLISHED_CAGI5 = {
    "LDLR": "NT-2.5B -0.16, GPN -0.08, HyenaDNA 0.18; Sei 0.54",
    "SORT1": "NT-2.5B -0.11, GPN 0.00, HyenaDNA 0.03; Sei 0.52",
    "F9": "NT-2.5B -0.10, GPN 0.08, HyenaDNA 0.04; Sei 0.58",
    "PKLR": "NT-2.5B -0.01, GPN 0.04, HyenaDNA 0.02, DNABERT-2 up to 0.31; Sei 0.68",
}


def genolm(args, words):
    command = [args.bin, "--threads", str(args.threads), "--log-level", "warn"] + words
    start = time.time()
    subprocess.run(command, check=True)
    return time.time() - start, " ".join(["genolm", "--threads", str(args.threads)] + words)


def read_tsv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def abbibench(args, rows):
    for name in ["2fjg", "1mlc"]:
        table = f"{DATA}/abbibench/{name}.tsv"
        out = f"{args.work}/abbibench_{name}.tsv"
        wall, command = genolm(args, ["score", "--model", args.antibody_lm, "--input", table,
                                      "--sequence-columns", "heavy", "--out", out])
        measured = {r["id"]: float(r["binding"]) for r in read_tsv(table)}
        scores = read_tsv(out)
        rho = spearman([float(s["log_likelihood"]) for s in scores],
                       [measured[s["id"]] for s in scores])
        rows.append(["AbBiBench " + name, f"{len(scores):,} variants", "Spearman(log-likelihood, binding)",
                     f"{rho:.3f}", PUBLISHED_ABBIBENCH[name], f"{wall:.0f}", command])


def blat(args, rows):
    out = f"{args.work}/blat"
    wall, command = genolm(args, ["mutagenesis", "--model", args.protein_lm, "--input",
                                  f"{DATA}/blat_ecolx/wildtype.fa", "--out", out])
    llr = {(int(r["position"]), r["alt"]): float(r["llr"]) for r in read_tsv(f"{out}/mutations.tsv")}
    offset = 23  # the wild type starts at residue 24
    x, y = [], []
    for r in read_tsv(f"{DATA}/blat_ecolx/mutants.tsv"):
        mutant = r["mutant"]
        x.append(llr[(int(mutant[1:-1]) - offset, mutant[-1])])
        y.append(float(r["fitness"]))
    rows.append(["BLAT_ECOLX", f"{len(x):,} single mutants", "Spearman(LLR, fitness)",
                 f"{spearman(x, y):.3f}", PUBLISHED_BLAT, f"{wall:.0f}", command])


def cagi5(args, rows):
    out = f"{args.work}/cagi5"
    wall, command = genolm(args, ["mutagenesis", "--model", args.dna_lm, "--input",
                                  f"{DATA}/cagi5_mpra/elements.fa", "--out", out, "--rc-average"])
    llr = {(r["id"], int(r["position"]), r["alt"]): float(r["llr"])
           for r in read_tsv(f"{out}/mutations.tsv")}
    by_element = {}
    for r in read_tsv(f"{DATA}/cagi5_mpra/train.tsv"):
        score = llr[(r["element"], int(r["position"]), r["alt"])]
        by_element.setdefault(r["element"], []).append((score, float(r["effect"])))
    summary = []
    for element in sorted(by_element):
        pairs = by_element[element]
        x = [p[0] for p in pairs]
        y = [p[1] for p in pairs]
        # A variant that lowers the likelihood is predicted to disturb the element: |effect|
        # is compared with -LLR, so a positive correlation means the model sees it.
        figures = (pearson(x, y), spearman(x, y), pearson([-v for v in x], np.abs(y)),
                   spearman([-v for v in x], np.abs(y)))
        summary.append(figures)
        rows.append([f"CAGI5 {element}", f"{len(pairs)} SNVs",
                     "Pearson / Spearman (LLR, effect); (-LLR, abs effect)",
                     " / ".join(f"{v:.3f}" for v in figures[:2]) + "; " +
                     " / ".join(f"{v:.3f}" for v in figures[2:]),
                     PUBLISHED_CAGI5.get(element, ""), "", ""])
    means = np.nanmean(np.array(summary), axis=0)
    rows.append(["CAGI5, mean of 15 elements", "4,650 SNVs", "as above",
                 " / ".join(f"{v:.3f}" for v in means[:2]) + "; " +
                 " / ".join(f"{v:.3f}" for v in means[2:]), "", f"{wall:.0f}", command])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--antibody-lm")
    parser.add_argument("--protein-lm")
    parser.add_argument("--dna-lm")
    parser.add_argument("--bin", default="build/genolm")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", default="bench/out/variant_effects")
    parser.add_argument("--out", default="bench/out/variant_effects.md")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    rows = []
    for name, model, run in [("abbibench", args.antibody_lm, abbibench),
                             ("blat", args.protein_lm, blat), ("cagi5", args.dna_lm, cagi5)]:
        if model:
            run(args, rows)
        else:
            print(f"[variant_effects] {name} skipped: no model given", file=sys.stderr)
    lines = ["| benchmark | variants | measure | genolm | published | wall s | command |",
             "|---|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    text = "\n".join(lines) + "\n"
    with open(args.out, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
