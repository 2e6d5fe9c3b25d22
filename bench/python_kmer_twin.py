#!/usr/bin/python3
"""The Python twin of `genolm corpus` for k-mers: tokenizes a FASTA file the way Genomic-ULMFiT
does (pure-Python k-mer slicing and a dict lookup from k-mer to id), then writes the ids as uint16
like a genolm shard. It uses genolm's vocabulary order (specials, then k-mers in ACGT order), so
its output can be compared token for token with genolm's train split (valid fraction 0).

Usage: python_kmer_twin.py FASTA OUT.u16 [--k 3] [--stride 1]
"""
import argparse
import gzip
import itertools
import sys

import numpy as np

SPECIALS = ["<pad>", "<unk>", "<bos>", "<eos>", "<sep>", "<cls>", "<mask>"]
UNK, BOS = 1, 2


def read_fasta(path):
    opener = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    name, parts = None, []
    with opener(path, "rt") as handle:
        for line in handle:
            line = line.rstrip("\r\n")
            if line.startswith(">"):
                if name is not None:
                    yield name, "".join(parts)
                name, parts = line[1:], []
            else:
                parts.append(line)
    if name is not None:
        yield name, "".join(parts)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("fasta")
    parser.add_argument("out")
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--stride", type=int, default=1)
    args = parser.parse_args()

    kmers = ["".join(p) for p in itertools.product("ACGT", repeat=args.k)]
    vocab = {kmer: len(SPECIALS) + i for i, kmer in enumerate(kmers)}
    k, stride = args.k, args.stride
    ids = []
    for _, sequence in read_fasta(args.fasta):
        sequence = sequence.upper()
        tokens = [sequence[i:i + k] for i in range(0, len(sequence) - k + 1, stride)]
        ids.append(BOS)
        ids.extend(vocab.get(token, UNK) for token in tokens)
    np.asarray(ids, dtype=np.uint16).tofile(args.out)
    print(f"{len(ids)} tokens", file=sys.stderr)


if __name__ == "__main__":
    main()
