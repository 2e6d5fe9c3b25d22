#!/usr/bin/python3
"""Variants scored per second: `genolm variants` against its PyTorch-Python twin (issue 13).

Both score the same SNVs with the same AWD-LSTM language model (its weights read from the run's
language_model.safetensors into the twin's model, bench/python_lm_twin.py), on the same windows
of the same reference, and both give each variant's log-likelihood ratio over the 3-mers that
cover it. The twin does what a competent PyTorch user would: the whole reference in memory,
windows cut and tokenized in NumPy, reference and alternative windows run together in batches in
inference mode, log-probabilities gathered and summed over the touched tokens. genolm reads each
reference window's prefix once and then only the touched tokens (src/variants/likelihood_ratio.h).
The scores are compared before the speeds are: a ratio of two different computations would mean
nothing.

The model is pretrained here for a few steps on the quick start's genome (.cache/genomes, from
scripts/fetch-genomes): speed does not depend on how well it was trained. The variants are random
SNVs of that genome, one per site, with REF read from it (nothing for genolm to share between
variants but each one's prefix), or with --vcf and --reference the SNVs of a real VCF (CAGI5's
saturation mutagenesis: three alternatives per site, whose reference genolm reads once).

Usage (from the repository root, on an otherwise idle machine):
  /usr/bin/python3 bench/variant_speed.py [--variants 2000] [--window 200] [--threads 2]
      [--batch-size 128] [--bin build/genolm] [--work bench/out/variant_speed]
      [--vcf FILE --reference FASTA]
Prints one Markdown table row per program and the ratio.
"""
import argparse
import json
import os
import random
import struct
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from python_lm_twin import AWDLSTMLM  # noqa: E402
from python_kmer_twin import read_fasta as fasta_records  # noqa: E402

GENOME = ".cache/genomes/human_chr22_20-21M.fa"
SPECIALS = 7  # <pad> <unk> <bos> <eos> <sep> <cls> <mask>
UNK, BOS = 1, 2


def read_fasta(path):
    """{contig: sequence} of a FASTA file (plain or gzip), named as a VCF names them."""
    return {header.split()[0]: sequence for header, sequence in fasta_records(path)}


def read_snvs(path):
    """(chrom, pos, ref, alt) of every allele of a plain VCF; every one must be an SNV."""
    snvs = []
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            chrom, pos, _, ref, alts = line.split("\t")[:5]
            for alt in alts.split(","):
                assert len(ref) == 1 and len(alt) == 1, f"{path}: not an SNV: {line}"
                snvs.append((chrom, int(pos), ref.upper(), alt.upper()))
    return snvs


def read_safetensors(path):
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", name
        begin, end = info["data_offsets"]
        tensors[name] = torch.from_numpy(
            np.frombuffer(data[begin:end], dtype="<f4").reshape(info["shape"]).copy())
    return tensors


def load_twin(run):
    card = json.load(open(f"{run}/model.json"))
    enc = card["encoder"]
    model = AWDLSTMLM(enc["vocab_size"], enc["emb_size"], enc["hidden_size"], enc["layers"])
    weights = read_safetensors(f"{run}/language_model.safetensors")
    state = {"encoder.weight": weights["encoder.embedding"], "decoder.bias": weights["decoder_bias"]}
    for i in range(enc["layers"]):
        for ours, theirs in [("weight_ih", "weight_ih"), ("weight_hh_raw", "weight_hh_raw"),
                             ("bias_ih", "bias_ih"), ("bias_hh", "bias_hh")]:
            state[f"rnns.{i}.{theirs}"] = weights[f"encoder.lstm{i}_{ours}"]
    state["decoder.weight"] = state["encoder.weight"]
    model.load_state_dict(state)
    return model.eval()


# 3-mers at stride 1, genolm's vocabulary: the specials, then every k-mer in ACGT order; a
# window holding anything else is <unk>.
CODE = np.full(256, -1, dtype=np.int64)
for i, base in enumerate("ACGT"):
    CODE[ord(base)] = CODE[ord(base.lower())] = i
CODE[ord("U")] = CODE[ord("u")] = 3


def kmer_tokens(sequence, k=3):
    codes = CODE[np.frombuffer(sequence.encode(), dtype=np.uint8)]
    n = len(codes) - k + 1
    windows = np.lib.stride_tricks.sliding_window_view(codes, k)[:n]
    ids = (windows * (4 ** np.arange(k - 1, -1, -1))).sum(1) + SPECIALS
    ids[(windows < 0).any(1)] = UNK
    return ids


def twin_scores(model, genome, variants, window, batch_size):
    """LLR of each SNV over the 3-mers that cover it: the windows genolm uses (centred, clipped)."""
    scores = []
    with torch.inference_mode():
        for start in range(0, len(variants), batch_size):
            batch = variants[start:start + batch_size]
            refs, alts, spans = [], [], []
            for chrom, pos, ref, alt in batch:
                contig = genome[chrom]
                begin = pos - 1
                lo = max(0, begin - (window - 1) // 2)
                hi = min(len(contig), begin - (window - 1) // 2 + window)
                seq = contig[lo:hi]
                mut = seq[:begin - lo] + alt + seq[begin - lo + 1:]
                r, a = kmer_tokens(seq), kmer_tokens(mut)
                changed = np.nonzero(r != a)[0]
                spans.append((changed[0], changed[-1] + 1) if len(changed) else (0, 0))
                refs.append(r)
                alts.append(a)
            rows = refs + alts
            length = max(len(r) for r in rows)
            ids = torch.zeros(len(rows), length, dtype=torch.long)
            for i, r in enumerate(rows):
                ids[i, :len(r)] = torch.from_numpy(r)
            inputs = torch.cat([torch.full((len(rows), 1), BOS), ids[:, :-1]], 1)
            model.reset()
            logits = model(inputs)[0].float()
            log_p = F.log_softmax(logits, -1).gather(2, ids.unsqueeze(2)).squeeze(2)
            n = len(batch)
            for i, (a, b) in enumerate(spans):
                scores.append(float(log_p[n + i, a:b].sum() - log_p[i, a:b].sum()))
    return scores


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", type=int, default=2000)
    parser.add_argument("--window", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32",
                        help="both programs: genolm --precision, the twin's weights cast to bf16")
    parser.add_argument("--bin", default="build/genolm")
    parser.add_argument("--work", default="bench/out/variant_speed")
    parser.add_argument("--vcf", help="score this VCF's SNVs (plain text) instead of random ones")
    parser.add_argument("--reference", help="the FASTA that --vcf refers to")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    torch.set_num_threads(args.threads)
    run = f"{args.work}/lm"
    if not os.path.exists(f"{run}/language_model.safetensors"):
        subprocess.run([args.bin, "--threads", str(args.threads), "--log-level", "warn", "pretrain",
                        "--config", "configs/quickstart/chr22_awd_lstm.toml",
                        "--set", "train.max_steps=20", "--set", "train.eval_every=20",
                        "--set", f"run.dir={args.work}", "--set", "run.name=lm"], check=True)
    if bool(args.vcf) != bool(args.reference):
        sys.exit("give --vcf and --reference together")
    if args.vcf:
        genome = read_fasta(args.reference)
        variants = read_snvs(args.vcf)
        vcf = args.vcf
        # genolm indexes the reference beside itself: a link in the work folder, which is writable.
        reference = f"{args.work}/{os.path.basename(args.reference)}"
        source = args.reference
    else:
        genome = read_fasta(GENOME)
        (chrom, sequence), = genome.items()
        rng = random.Random(0)
        variants = []
        while len(variants) < args.variants:
            pos = rng.randrange(1, len(sequence) + 1)
            ref = sequence[pos - 1].upper()
            if ref in "ACGT":
                variants.append((chrom, pos, ref, rng.choice([b for b in "ACGT" if b != ref])))
        vcf = f"{args.work}/variants.vcf"
        with open(vcf, "w") as f:
            f.write(f"##fileformat=VCFv4.2\n##contig=<ID={chrom},length={len(sequence)}>\n"
                    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
            for i, (_, pos, ref, alt) in enumerate(variants):
                f.write(f"{chrom}\t{pos}\tv{i}\t{ref}\t{alt}\t.\t.\t.\n")
        reference = f"{args.work}/reference.fa"
        source = GENOME
    if not os.path.lexists(reference):
        os.symlink(os.path.abspath(source), reference)
    out = f"{args.work}/genolm.tsv"
    command = [args.bin, "--threads", str(args.threads), "--log-level", "warn", "variants",
               "--model", run, "--vcf", vcf, "--reference", reference, "--window",
               str(args.window), "--batch-size", str(args.batch_size),
               "--precision", args.precision]
    subprocess.run(command + ["--out", f"{args.work}/warmup.tsv"], check=True)  # builds the .fai
    start = time.time()
    subprocess.run(command + ["--out", out], check=True)
    genolm_seconds = time.time() - start
    ours = [float(line.rsplit("\t", 1)[1]) for line in open(out).read().splitlines()[1:]]

    model = load_twin(run)
    if args.precision == "bf16":
        model = model.to(torch.bfloat16)
    twin_scores(model, genome, variants[:args.batch_size], args.window, args.batch_size)  # warm-up
    start = time.time()
    theirs = twin_scores(model, genome, variants, args.window, args.batch_size)
    twin_seconds = time.time() - start
    largest = max(abs(a - b) for a, b in zip(ours, theirs))
    print(f"largest |genolm - twin| over {len(ours)} scores: {largest:.2e}", file=sys.stderr)
    if largest > (1e-3 if args.precision == "fp32" else 0.25):
        sys.exit(f"the two programs disagree (largest difference {largest}): no speed to compare")
    print("| program | variants/s | seconds |")
    print("|---|---|---|")
    print(f"| genolm variants (whole process, model load included) | {len(ours) / genolm_seconds:,.0f} | {genolm_seconds:.1f} |")
    print(f"| PyTorch-Python twin (scoring only) | {len(theirs) / twin_seconds:,.0f} | {twin_seconds:.1f} |")
    print(f"\nratio genolm / twin: {twin_seconds / genolm_seconds:.2f}x "
          f"({len(variants)} SNVs of {args.vcf or 'random sites'}, window {args.window}, "
          f"batch {args.batch_size}, {args.threads} threads, {args.precision}, largest score difference {largest:.1e})")


if __name__ == "__main__":
    main()
