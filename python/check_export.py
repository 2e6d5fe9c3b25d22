#!/usr/bin/env python3
"""Checks a genolm export against genolm's own outputs, with the Python reference loader.

    check_export.py --export DIR --input FILE [--predictions PREDICT.tsv]
                    [--embeddings EMBED.npy --pool P [--layer L]]
                    [--embeddings-safetensors EMBED.safetensors] [--scores SCORE.tsv]
                    [--sequence-column sequence] [--tolerance 1e-4]
                    [--predict-strands model|both|one] [--embed-rc-average] [--score-rc-average]

1. Validates DIR/model.safetensors with the numpy reader (header, dtypes, shapes, byte ranges,
   genolm's CRC-32) and checks that the rebuilt PyTorch module expects exactly its tensors, with
   the same shapes, and holds the same values once loaded.
2. Reads FILE (a CSV/TSV table or FASTA/FASTQ, plain or gzip) as genolm does, runs the rebuilt
   model, and compares it with what genolm wrote: predictions (predict's TSV), embeddings (embed's
   .npy and its .ids.tsv, and/or a safetensors file with an "embeddings" tensor) and scores
   (score's TSV).
3. Prints the largest difference of each comparison; exits 1 when one exceeds the tolerance, or
   when ids, their order or the columns differ. Exit 0 means every given file matched.

A number genolm printed with few digits (predict writes 6 significant digits) cannot match more
closely than its last digit: half a unit of that digit is added to the tolerance. Scores (sums of
log-probabilities over whole records) are compared relative to their size.
"""

from __future__ import annotations

import argparse
import csv
import decimal
import gzip
import io
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import genolm_export  # noqa: E402  (beside this file)


class Mismatch(Exception):
    """genolm's output and the reference disagree, or a file is not as expected."""


# ---------------------------------------------------------------------------------------------
# Reading the input the way genolm does (src/io/labelled.cpp, table_reader.cpp, fastx_reader.cpp)
# ---------------------------------------------------------------------------------------------


def read_text(path: Path) -> str:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8")


def looks_like_fastx(text: str) -> bool:
    """FASTA ('>') or FASTQ ('@') first, whitespace aside; anything else is a table."""
    stripped = text[:4096].lstrip(" \t\r\n")
    return stripped[:1] in (">", "@")


def read_fastx(text: str) -> list[tuple[str, list[str]]]:
    """(id, [sequence]) per record: the id is the header up to the first whitespace, the sequence
    its lines joined with whitespace dropped (FASTQ: up to the '+' line; the qualities skipped)."""
    lines = text.splitlines()
    records, i = [], 0
    while i < len(lines):
        header, i = lines[i], i + 1
        if not header.strip():
            continue
        if header[0] not in ">@":
            raise Mismatch(f"input line {i}: expected a '>' or '@' header, found {header[:40]!r}")
        end_of_sequence = ">" if header[0] == ">" else "+"
        parts = []
        while i < len(lines) and not lines[i].startswith(end_of_sequence):
            parts.append("".join(lines[i].split()))
            i += 1
        sequence = "".join(parts)
        if header[0] == "@":
            i += 1  # the '+' line, then as many quality letters as the sequence has bases
            quality = 0
            while i < len(lines) and quality < len(sequence):
                quality += len(lines[i].strip())
                i += 1
        words = header[1:].split()
        records.append((words[0] if words else "", [sequence]))
    return records


def table_delimiter(path: Path, header_line: str) -> str:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".tsv", ".tab")):
        return "\t"
    if name.endswith(".csv"):
        return ","
    return "\t" if "\t" in header_line else ","


def read_table(path: Path, text: str, sequence_columns: list[str], id_column: str):
    delimiter = table_delimiter(path, text.split("\n", 1)[0])
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [field.strip(" ") for field in next(rows)]
    missing = [c for c in sequence_columns if c not in header]
    if missing:
        raise Mismatch(f"{path}: no column {missing[0]!r} (columns: {', '.join(header)})")
    sequence_index = [header.index(c) for c in sequence_columns]
    id_index = header.index(id_column) if id_column in header else None
    records = []
    for number, row in enumerate((r for r in rows if r), start=1):
        row = [field.strip(" ") for field in row]
        record_id = row[id_index] if id_index is not None else str(number)
        records.append((record_id, [row[i] for i in sequence_index]))
    return records


def read_records(path: Path, sequence_columns: list[str], id_column: str):
    text = read_text(path)
    if looks_like_fastx(text):
        return read_fastx(text)
    return read_table(path, text, sequence_columns, id_column)


def tsv_field(text: str) -> str:
    """An id as genolm writes it in a TSV cell (src/io/tsv_field.h)."""
    return (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


# ---------------------------------------------------------------------------------------------
# Comparisons
# ---------------------------------------------------------------------------------------------


def printed_resolution(text: str) -> float:
    """Half a unit of the last digit genolm printed ("104.277" -> 0.0005)."""
    try:
        exponent = decimal.Decimal(text).as_tuple().exponent
    except decimal.InvalidOperation:
        return 0.0
    return 0.5 * 10.0 ** exponent if isinstance(exponent, int) else 0.0


class Report:
    def __init__(self, tolerance: float):
        self.tolerance = tolerance
        self.failures: list[str] = []

    def fail(self, message: str) -> None:
        self.failures.append(message)
        print(f"  MISMATCH: {message}")

    def compare(self, what: str, ids, reference: np.ndarray, rebuilt: np.ndarray,
                slack: np.ndarray | float = 0.0, relative: bool = False,
                columns: list[str] | None = None) -> None:
        """Element-wise |reference - rebuilt| against tolerance (+ slack for printed digits;
        times max(1, |reference|) when relative). Prints the largest differences."""
        if reference.shape != rebuilt.shape:
            self.fail(f"{what}: genolm's shape {list(reference.shape)}, the reference's "
                      f"{list(rebuilt.shape)}")
            return
        reference = reference.astype(np.float64)
        rebuilt = rebuilt.astype(np.float64)
        both_nan = np.isnan(reference) & np.isnan(rebuilt)
        same_inf = np.isinf(reference) & (reference == rebuilt)
        difference = np.where(both_nan | same_inf, 0.0, np.abs(reference - rebuilt))
        difference = np.nan_to_num(difference, nan=np.inf)
        scale = np.maximum(1.0, np.abs(np.nan_to_num(reference))) if relative else 1.0
        allowed = self.tolerance * scale + slack
        largest = float(difference.max()) if difference.size else 0.0
        print(f"  {what}: {reference.shape[0]} rows x {reference.shape[1]} columns, largest "
              f"difference {largest:.3g}" + (" (relative tolerance)" if relative else ""))
        order = np.argsort(-difference, axis=None)[:3]
        for flat in order:
            row, column = np.unravel_index(flat, difference.shape)
            if difference[row, column] == 0:
                break
            name = columns[column] if columns else str(column)
            print(f"    {ids[row]!s:>12} {name:>20}: genolm {reference[row, column]:.9g}, "
                  f"reference {rebuilt[row, column]:.9g}")
        over = difference > allowed
        if over.any():
            row, column = np.unravel_index(np.argmax(np.where(over, difference, -1)), over.shape)
            name = columns[column] if columns else f"column {column}"
            self.fail(f"{what}: {int(over.sum())} values differ by more than the tolerance "
                      f"{self.tolerance:g}; the largest at id {ids[row]!r}, {name}: genolm "
                      f"{reference[row, column]:.9g}, reference {rebuilt[row, column]:.9g}")

    def same_ids(self, what: str, reference: list[str], expected: list[str]) -> bool:
        if reference == expected:
            return True
        if len(reference) != len(expected):
            self.fail(f"{what}: {len(reference)} rows, the input has {len(expected)} records")
        else:
            first = next(i for i, (a, b) in enumerate(zip(reference, expected)) if a != b)
            self.fail(f"{what}: row {first + 1} is id {reference[first]!r}, the input's record "
                      f"{first + 1} is {expected[first]!r} (ids or their order differ)")
        return False


# ---------------------------------------------------------------------------------------------
# The checks
# ---------------------------------------------------------------------------------------------


def check_weights(folder: Path, report: Report):
    """The weights file, parsed and validated with numpy, against the rebuilt module."""
    config = genolm_export.read_config(folder)
    weights = folder / config.get("weights", "model.safetensors")
    print(f"weights: {weights}")
    try:
        header, tensors = genolm_export.read_safetensors(weights, require_checksum=True)
    except genolm_export.SafetensorsError as error:
        raise Mismatch(str(error)) from None
    metadata = header.get("__metadata__", {})
    total = sum(array.nbytes for array in tensors.values())
    dtypes = sorted({header[name]["dtype"] for name in tensors})
    print(f"  valid safetensors: {len(tensors)} tensors, {total} bytes of data "
          f"({', '.join(dtypes)}), {weights.stat().st_size} bytes in all, genolm_crc32 "
          f"{metadata.get('genolm_crc32')} verified")
    try:
        model = genolm_export.ExportedModel(config, tensors, folder)
    except ValueError as error:
        raise Mismatch(str(error)) from None
    expected = model.expected_tensors()
    # load_tensors refuses a missing, misshapen or unknown tensor; then every value must be the
    # stored one (widened to fp32 where the file holds another float type).
    differing = [name for name, tensor in expected.items()
                 if not torch.equal(tensor, torch.from_numpy(tensors[name]).to(tensor.dtype))]
    if differing:
        report.fail(f"tensors whose loaded values differ from the file: {', '.join(differing)}")
    print(f"  the rebuilt {config['model']} ({config['encoder']['arch']}, "
          f"{config['tokenizer']['kind']} tokenizer, {config.get('direction', 'forward')}) "
          f"expects exactly these {len(expected)} tensors; all loaded with equal values")
    return model


def check_predictions(model, path: Path, ids, sequences, rc_average, report: Report):
    print(f"predictions: {path}")
    lines = path.read_text().rstrip("\n").split("\n")
    header, rows = lines[0].split("\t"), [line.split("\t") for line in lines[1:]]
    predictions = model.predict(sequences, rc_average=rc_average)
    columns = model.prediction_columns(predictions)
    expected_header = ["id"] + [name for name, _ in columns]
    if header != expected_header:
        report.fail(f"columns are {header}, expected {expected_header}")
        return
    if any(len(row) != len(header) for row in rows):
        report.fail("a row has another number of fields than the header")
        return
    if not report.same_ids("prediction ids", [row[0] for row in rows], [tsv_field(i) for i in ids]):
        return
    numeric = [(c, name) for c, (name, _) in enumerate(columns, start=1) if name != "predicted"]
    reference = np.array([[float(row[c]) for c, _ in numeric] for row in rows])
    slack = np.array([[printed_resolution(row[c]) for c, _ in numeric] for row in rows])
    rebuilt = np.array([values for name, values in columns if name != "predicted"]).T
    report.compare("values", ids, reference, rebuilt, slack, columns=[n for _, n in numeric])
    if predictions["kind"] == "classification":
        names, values = predictions["names"], predictions["values"]
        for r, row in enumerate(rows):
            ours = predictions["predicted"][r]
            if row[1] == ours:
                continue
            # A near tie may fall either way at float precision; anything else is a mismatch.
            if row[1] not in names or (values[r, names.index(ours)]
                                       - values[r, names.index(row[1])]) > report.tolerance:
                report.fail(f"id {ids[r]!r}: genolm predicted {row[1]!r}, the reference {ours!r}")
        print(f"  predicted classes: compared for {len(rows)} rows")


def ids_beside(rows: Path, name: str | None = None):
    """The ids genolm embed wrote beside its rows: <out>.ids.tsv (out.npy or out.safetensors ->
    out.ids.tsv), or the file `name` in the same folder. (None, path) when it is missing."""
    if name is None:
        stem = rows.with_suffix("") if rows.suffix in (".npy", ".safetensors") else rows
        name = stem.name + ".ids.tsv"
    path = rows.parent / name
    if not path.exists():
        return None, path
    lines = path.read_text().rstrip("\n").split("\n")
    if lines[0] != "id":
        raise Mismatch(f"{path}: the header is {lines[0]!r}, expected 'id'")
    return lines[1:], path


def check_embeddings(model, npy: Path, ids, sequences, args, report: Report, rebuilt=None):
    print(f"embeddings: {npy} (pool {args.pool}, layer {args.layer or 'last'})")
    reference = np.load(npy, allow_pickle=False)
    if reference.dtype != np.float32 or reference.ndim != 2:
        report.fail(f"{npy}: {reference.dtype} of {reference.ndim} dimensions, expected float32 "
                    "[records, dim]")
        return rebuilt
    return compare_vectors(model, reference, ids_beside(npy), ids, sequences, args, report,
                           rebuilt)


def compare_vectors(model, reference, ids_file, ids, sequences, args, report: Report, rebuilt):
    """genolm's vectors (and the ids written beside them) against the rebuilt model's; the
    rebuilt vectors are returned for the next file of the same embeddings."""
    written_ids, ids_path = ids_file
    if written_ids is None:
        print(f"  (no {ids_path.name} beside it: ids not compared)")
    elif not report.same_ids(f"ids in {ids_path.name}", written_ids, [tsv_field(i) for i in ids]):
        return rebuilt
    if rebuilt is None:
        rebuilt = model.embed(sequences, pool=args.pool, layer=args.layer,
                              rc_average=args.embed_rc_average)
    report.compare("vectors", ids, reference, rebuilt)
    return rebuilt


def check_embeddings_safetensors(model, path: Path, ids, sequences, args, report: Report,
                                 rebuilt=None):
    print(f"embeddings: {path} (pool {args.pool}, layer {args.layer or 'last'})")
    try:
        header, tensors = genolm_export.read_safetensors(path)
    except genolm_export.SafetensorsError as error:
        raise Mismatch(str(error)) from None
    metadata = header.get("__metadata__", {})
    print(f"  valid safetensors: tensors {sorted(tensors)}, metadata keys {sorted(metadata)}")
    if "embeddings" not in tensors:
        report.fail(f"{path} has no tensor 'embeddings'")
        return rebuilt
    reference = tensors["embeddings"]
    if header["embeddings"]["dtype"] != "F32" or reference.ndim != 2:
        report.fail(f"'embeddings' is {header['embeddings']['dtype']} {list(reference.shape)}, "
                    "expected F32 [records, dim]")
        return rebuilt
    # genolm embed says what the rows are: compare with what the checker was told.
    told = {"pool": args.pool, "layer": str(args.layer or model.layer_count()),
            "rc_average": "true" if args.embed_rc_average else "false"}
    for key, value in told.items():
        if key in metadata and metadata[key] != value:
            report.fail(f"{path.name} says {key} {metadata[key]!r}, the checker was told {value!r}")
    return compare_vectors(model, reference, ids_beside(path, metadata.get("ids")), ids,
                           sequences, args, report, rebuilt)


def check_scores(model, path: Path, ids, sequences, args, report: Report):
    print(f"scores: {path}")
    lines = path.read_text().rstrip("\n").split("\n")
    header, rows = lines[0].split("\t"), [line.split("\t") for line in lines[1:]]
    expected = ["id", "log_likelihood", "log_likelihood_per_token", "log_likelihood_per_base"]
    if header != expected:
        report.fail(f"columns are {header}, expected {expected}")
        return
    if not report.same_ids("score ids", [row[0] for row in rows], [tsv_field(i) for i in ids]):
        return
    scores = model.log_likelihood(sequences, rc_average=args.score_rc_average)
    tokens = np.array([len(t) for t in model.tokens(sequences)], dtype=np.float64)
    if args.score_rc_average:
        tokens = (tokens + [len(t) for t in model.tokens(sequences, True)]) / 2
    bases = np.array([sum(len(s.encode()) for s in record) for record in sequences], np.float64)
    rebuilt = np.stack([scores, scores / tokens, scores / bases], axis=1)
    reference = np.array([[float(v) for v in row[1:]] for row in rows])
    slack = np.array([[printed_resolution(v) for v in row[1:]] for row in rows])
    report.compare("log-likelihoods", ids, reference, rebuilt, slack, relative=True,
                   columns=expected[1:])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--export", required=True, type=Path, help="genolm export folder")
    parser.add_argument("--input", type=Path, help="the sequences genolm read (table or FASTA)")
    parser.add_argument("--predictions", type=Path, help="genolm predict's TSV")
    parser.add_argument("--embeddings", type=Path, help="genolm embed's .npy")
    parser.add_argument("--embeddings-safetensors", type=Path,
                        help="embeddings as safetensors (tensor 'embeddings' [N, D])")
    parser.add_argument("--scores", type=Path, help="genolm score's TSV")
    parser.add_argument("--pool", default="mean", choices=genolm_export.POOLINGS,
                        help="embed's --pool (default mean, as genolm's)")
    parser.add_argument("--layer", type=int, default=0, help="embed's --layer (0: the last)")
    parser.add_argument("--predict-strands", choices=("model", "both", "one"), default="model",
                        help="how genolm predict read strands: as the model was fine-tuned "
                             "(default), with --rc-average (both) or --no-rc-average (one)")
    parser.add_argument("--embed-rc-average", action="store_true",
                        help="genolm embed was run with --rc-average")
    parser.add_argument("--score-rc-average", action="store_true",
                        help="genolm score was run with --rc-average")
    parser.add_argument("--sequence-column", action="append", dest="sequence_columns",
                        help="table column with the sequence (twice for paired chains); "
                             "default: the model's, else 'sequence'")
    parser.add_argument("--id-column",
                        help="table column with ids; default: the model's, else 'id'")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--threads", type=int, default=2, help="PyTorch threads (default 2)")
    args = parser.parse_args(argv)
    outputs = [args.predictions, args.embeddings, args.embeddings_safetensors, args.scores]
    if any(outputs) and args.input is None:
        parser.error("--input is needed to compare outputs")
    torch.set_num_threads(max(1, args.threads))

    report = Report(args.tolerance)
    try:
        model = check_weights(args.export, report)
        if args.input is not None:
            columns = model.task.get("columns", {}) if model.task else {}
            sequence_columns = args.sequence_columns or columns.get("sequence", ["sequence"])
            id_column = args.id_column or columns.get("id", "id")
            records = read_records(args.input, sequence_columns, id_column)
            ids = [record_id for record_id, _ in records]
            sequences = [chains[0] if len(chains) == 1 else chains for _, chains in records]
            print(f"input: {args.input}: {len(records)} records")
            if args.predictions:
                rc = {"model": None, "both": True, "one": False}[args.predict_strands]
                check_predictions(model, args.predictions, ids, sequences, rc, report)
            vectors = None
            if args.embeddings:
                vectors = check_embeddings(model, args.embeddings, ids, sequences, args, report)
            if args.embeddings_safetensors:
                check_embeddings_safetensors(model, args.embeddings_safetensors, ids, sequences,
                                             args, report, vectors)
            if args.scores:
                check_scores(model, args.scores, ids, sequences, args, report)
    except (Mismatch, ValueError, OSError, KeyError) as error:
        report.fail(f"{type(error).__name__}: {error}" if not isinstance(error, Mismatch)
                    else str(error))
    if report.failures:
        print(f"FAILED: {len(report.failures)} mismatch(es); the first: {report.failures[0]}")
        return 1
    print(f"OK: the export matches genolm (tolerance {args.tolerance:g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
