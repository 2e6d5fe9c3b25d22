#!/usr/bin/python3
"""Simple baselines on the shared tasks (issue 12): the numbers genolm's models must beat.

For every task of ../shared/data/tasks it trains three models on the train split and scores them
once on the fixed test split, which is never looked at before that:
  onehot      logistic regression (ridge regression for Jain 2017) on one-hot bases/residues at
              aligned positions; variable lengths are padded with zeros or truncated to the longest
              training sequence (per chain);
  kmer        logistic (ridge) regression on k-mer counts, k = 3..6 for DNA and 1..3 for protein;
  cnn         a small 1-D CNN: conv (128 filters, width 9 for DNA, 5 for protein), ReLU, max pool
              to at most 32 positions, flatten (a dense layer that sees every position, 64 units),
              dropout, output; Adam, early stopping on valid loss, best epoch restored.
Model choice (L2 strength, k, epoch) uses valid.tsv when the task has one, else a stratified 10%
of train (seeded); the models are then fitted on the rest of train, not refitted on all of it.
The criterion is always the valid loss (cross-entropy; for ridge, the closed-form leave-one-out
squared error on the training fold), so every model is chosen the same smooth way.

Jain 2017 (137 antibodies, 12 assays, heavy and light chains) has no test split: each property is
evaluated by 10-fold cross-validation (one fixed random partition), ridge regression instead of
the logistic one, one property at a time; the CNN regresses all 12 standardised properties at
once (one network per fold) with early stopping on a random 10% of the training folds. Reported:
Spearman of the pooled out-of-fold predictions, and the mean and standard deviation of the 10
per-fold Spearmans (about 14 antibodies each: noisy).

Metrics follow genolm's (src/train/task_metrics.h): predicted class = argmax; MCC = Gorodkin's
multiclass formula (the ordinary MCC for two classes); macro MCC = mean one-vs-rest MCC over the
classes; AUROC binary, or one-vs-rest macro for more classes; macro F1. Wall seconds per model
cover everything it needs: features, the whole hyperparameter search, fit and test prediction.

Only numpy and torch are used, on one thread, with fixed seeds: reruns give the same numbers.

Usage (from anywhere):
  /usr/bin/python3 bench/baselines.py [--tasks splice,ecoli_promoters,...] [--models onehot,kmer,cnn]
                                      [--out FILE.md] [--data DIR] [--seed 0] [--threads 1]
                                      [--drop-test-duplicates]
--drop-test-duplicates is a supplementary check, not the benchmark: the shared splits contain
sequences that occur in both train and test (all 100 strong enhancers of iEnhancer's test set are
also in its train set, as the source ships them; 82 StatLog splice test rows repeat train rows),
and it shows how much a model gains by having seen them.
"""
import argparse
import copy
import csv
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.normpath(os.path.join(ROOT, "..", "shared", "data", "tasks"))

DNA = "ACGT"
PROTEIN = "ACDEFGHIKLMNPQRSTVWY"

# name -> description; "columns" are the sequence column(s), "cnn_epochs" caps training.
TASKS = {
    "splice": dict(alphabet=DNA, columns=["sequence"], kind="classification", cnn_epochs=60),
    "ecoli_promoters": dict(alphabet=DNA, columns=["sequence"], kind="classification", cnn_epochs=60),
    "ienhancer_layer1": dict(alphabet=DNA, columns=["sequence"], kind="classification", cnn_epochs=40),
    "ienhancer_layer2": dict(alphabet=DNA, columns=["sequence"], kind="classification", cnn_epochs=40),
    "mason_her2": dict(alphabet=PROTEIN, columns=["cdrh3"], kind="classification", cnn_epochs=20),
    "jain2017": dict(alphabet=PROTEIN, columns=["heavy", "light"], kind="regression", cnn_epochs=100),
}
JAIN_PROPERTIES = ["hek_titer", "fab_tm", "sgac_sins", "hic_rt", "smac_rt", "slope_accel_stability",
                   "psr", "ac_sins", "cic_rt", "csi_bli", "elisa", "bvp_elisa"]
MODELS = ["onehot", "kmer", "cnn"]
MODEL_NAMES = {"onehot": "one-hot LR", "kmer": "k-mer LR", "cnn": "CNN"}

L2_GRID = [3.0, 1.0, 0.3, 0.1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5]  # mean CE + l2/2 |W|^2
RIDGE_GRID = [10.0 ** e for e in np.arange(-2, 5.01, 0.5)]          # ridge: |y - Xw|^2 + l2 |w|^2


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------
# Data

def read_table(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def stratified_holdout(labels, fraction, seed):
    """Indices (kept, held out): `fraction` of every class, rounded, held out at random."""
    rng = np.random.default_rng(seed)
    held = []
    for value in sorted(set(labels)):
        members = np.flatnonzero(np.asarray(labels) == value)
        rng.shuffle(members)
        held.extend(members[: int(round(fraction * len(members)))])
    held = np.sort(np.asarray(held, dtype=np.int64))
    kept = np.setdiff1d(np.arange(len(labels)), held)
    return kept, held


def encode(sequences, alphabet):
    """Each sequence as an array of alphabet indices; any other character becomes -1."""
    lookup = np.full(256, -1, dtype=np.int64)
    for i, ch in enumerate(alphabet):
        lookup[ord(ch)] = i
        lookup[ord(ch.lower())] = i
    return [lookup[np.frombuffer(s.encode("ascii"), dtype=np.uint8)] for s in sequences]


def pad(codes, length):
    """(N, length) indices, right-padded with -1 or truncated."""
    out = np.full((len(codes), length), -1, dtype=np.int64)
    for i, c in enumerate(codes):
        c = c[:length]
        out[i, : len(c)] = c
    return out


class Chains:
    """The encoded sequence columns of a set of rows: a list (one per chain) of index arrays."""

    def __init__(self, rows, columns, alphabet):
        self.alphabet = alphabet
        self.chains = [encode([r[c] for r in rows], alphabet) for c in columns]

    def subset(self, index):
        other = copy.copy(self)
        other.chains = [[chain[i] for i in index] for chain in self.chains]
        return other

    def max_lengths(self):
        return [max(len(c) for c in chain) for chain in self.chains]

    def __len__(self):
        return len(self.chains[0])


def one_hot(chains, lengths, gap=0):
    """(N, A, sum(lengths) + gap between chains) float tensor; unknown or padded positions are 0."""
    a = len(chains.alphabet)
    blocks = []
    for chain, length in zip(chains.chains, lengths):
        idx = pad(chain, length)
        x = np.zeros((len(idx), length, a), dtype=np.float32)
        rows, cols = np.nonzero(idx >= 0)
        x[rows, cols, idx[rows, cols]] = 1.0
        blocks.append(x)
        if gap:
            blocks.append(np.zeros((len(idx), gap, a), dtype=np.float32))
    if gap:
        blocks = blocks[:-1]
    return torch.from_numpy(np.concatenate(blocks, axis=1)).transpose(1, 2).contiguous()


def kmer_counts(chains, k):
    """Sparse (N, chains * A^k) tensor of k-mer counts per chain; k-mers with an unknown base skip."""
    a = len(chains.alphabet)
    width = a ** k
    rows, cols = [], []
    for c, chain in enumerate(chains.chains):
        for i, codes in enumerate(chain):
            n = len(codes) - k + 1
            if n <= 0:
                continue
            windows = np.lib.stride_tricks.sliding_window_view(codes, k)
            valid = (windows >= 0).all(axis=1)
            ids = windows[valid] @ (a ** np.arange(k - 1, -1, -1))
            rows.append(np.full(len(ids), i))
            cols.append(ids + c * width)
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    index = torch.from_numpy(np.stack([rows, cols]))
    values = torch.ones(len(rows), dtype=torch.float32)
    shape = (len(chains), len(chains.chains) * width)
    return torch.sparse_coo_tensor(index, values, shape).coalesce()


# ----------------------------------------------------------------------------------------------
# Metrics (definitions as in genolm's src/train/task_metrics.h)

def average_ranks(x):
    """1-based ranks, ties sharing their mean rank."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="mergesort")
    sorted_x = x[order]
    ranks = np.empty(len(x))
    start = 0
    while start < len(x):
        end = start
        while end + 1 < len(x) and sorted_x[end + 1] == sorted_x[start]:
            end += 1
        ranks[order[start: end + 1]] = (start + end) / 2.0 + 1.0
        start = end + 1
    return ranks


def auroc(score, positive):
    """Mann-Whitney AUROC; NaN without both classes."""
    positive = np.asarray(positive, dtype=bool)
    n1, n0 = positive.sum(), (~positive).sum()
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = average_ranks(score)
    return float((r[positive].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def pearson(x, y):
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    x, y = x - x.mean(), y - y.mean()
    denominator = math.sqrt((x * x).sum() * (y * y).sum())
    return float((x * y).sum() / denominator) if denominator > 0 else float("nan")


def spearman(x, y):
    return pearson(average_ranks(x), average_ranks(y))


def binary_mcc(tp, fp, fn, tn):
    denominator = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return (tp * tn - fp * fn) / denominator if denominator > 0 else 0.0


def classification_metrics(probabilities, truth, n_classes):
    p = np.asarray(probabilities, dtype=np.float64)
    truth = np.asarray(truth)
    predicted = p.argmax(axis=1)
    confusion = np.zeros((n_classes, n_classes), dtype=np.float64)
    np.add.at(confusion, (truth, predicted), 1)
    total = confusion.sum()
    t, q, correct = confusion.sum(axis=1), confusion.sum(axis=0), np.trace(confusion)
    denominator = math.sqrt((total ** 2 - (q * q).sum()) * (total ** 2 - (t * t).sum()))
    mcc = (correct * total - (t * q).sum()) / denominator if denominator > 0 else 0.0
    per_class_mcc, f1 = [], []
    for c in range(n_classes):
        tp = confusion[c, c]
        fp, fn = q[c] - tp, t[c] - tp
        per_class_mcc.append(binary_mcc(tp, fp, fn, total - tp - fp - fn))
        f1.append(2 * tp / (2 * tp + fp + fn) if tp > 0 else 0.0)
    if n_classes == 2:
        area = auroc(p[:, 1], truth == 1)
    else:
        areas = [auroc(p[:, c], truth == c) for c in range(n_classes)]
        area = float(np.nanmean(areas))
    return dict(accuracy=correct / total, mcc=mcc, macro_mcc=float(np.mean(per_class_mcc)),
                auroc=area, macro_f1=float(np.mean(f1)))


def cross_entropy(probabilities, truth):
    p = np.clip(np.asarray(probabilities)[np.arange(len(truth)), truth], 1e-12, 1.0)
    return float(-np.log(p).mean())


# ----------------------------------------------------------------------------------------------
# Logistic regression (multinomial, L2, full-batch L-BFGS) and ridge regression

def matmul(x, w):
    return torch.sparse.mm(x, w) if x.is_sparse else x @ w


def fit_logistic(x, y, n_classes, l2, start=None):
    """Minimise mean cross-entropy + l2/2 |W|^2 (bias unpenalised); returns (W, b)."""
    d = x.shape[1]
    w = torch.zeros(d, n_classes) if start is None else start[0].clone()
    b = torch.zeros(n_classes) if start is None else start[1].clone()
    w.requires_grad_(True)
    b.requires_grad_(True)
    optimizer = torch.optim.LBFGS([w, b], lr=1.0, max_iter=500, history_size=20,
                                  tolerance_grad=1e-6, tolerance_change=1e-10,
                                  line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = F.cross_entropy(matmul(x, w) + b, y) + 0.5 * l2 * (w * w).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return w.detach(), b.detach()


def predict_logistic(model, x):
    w, b = model
    with torch.no_grad():
        return torch.softmax(matmul(x, w) + b, dim=1).numpy()


def select_logistic(candidates, y_fit, y_valid, n_classes):
    """candidates: (label, x_fit, x_valid, x_test) feature sets. For each, fit the L2 grid from
    the strongest penalty down (warm-started) and keep the (set, L2) with the lowest valid
    cross-entropy. Returns (choice text, test probabilities)."""
    best = None
    y_fit_t = torch.from_numpy(y_fit)
    for label, x_fit, x_valid, x_test in candidates:
        model = None
        for l2 in L2_GRID:
            model = fit_logistic(x_fit, y_fit_t, n_classes, l2, start=model)
            loss = cross_entropy(predict_logistic(model, x_valid), y_valid)
            if best is None or loss < best[0]:
                best = (loss, f"{label}L2 {l2:g}", model, x_test)
    loss, choice, model, x_test = best
    return f"{choice}, valid CE {loss:.3f}", predict_logistic(model, x_test)


def ridge_fit_loo(x, y, grid):
    """Ridge regression with an unpenalised intercept, in the dual (n << d). Returns, for the
    L2 value with the lowest exact leave-one-out squared error, (loo_mse, l2, predict function)."""
    x = np.asarray(x, dtype=np.float64)
    mean_x, mean_y = x.mean(axis=0), y.mean()
    xc, yc = x - mean_x, y - mean_y
    s, u = np.linalg.eigh(xc @ xc.T)
    s = np.clip(s, 0.0, None)
    uty = u.T @ yc
    n = len(y)
    best = None
    for l2 in grid:
        shrink = s / (s + l2)
        fitted = u @ (shrink * uty)
        leverage = (u * u) @ shrink + 1.0 / n      # diagonal of the hat matrix, intercept included
        loo = (yc - fitted) / (1.0 - leverage)
        mse = float((loo * loo).mean())
        if best is None or mse < best[0]:
            best = (mse, l2)
    mse, l2 = best
    alpha = u @ (uty / (s + l2))                    # w = Xc^T alpha

    def predict(x_new):
        return (np.asarray(x_new, dtype=np.float64) - mean_x) @ (xc.T @ alpha) + mean_y

    return mse, l2, predict


# ----------------------------------------------------------------------------------------------
# The CNN

class SmallCNN(torch.nn.Module):
    """conv(width) -> ReLU -> max pool to <= 32 positions -> dropout -> flatten -> dense 64 ->
    ReLU -> dropout -> output. The dense layer sees every pooled position (no global pooling)."""

    def __init__(self, channels, length, outputs, width, filters=128, hidden=64):
        super().__init__()
        self.conv = torch.nn.Conv1d(channels, filters, width, padding=width // 2)
        self.pool = max(1, math.ceil(length / 32))
        pooled = math.ceil(length / self.pool)
        self.dense = torch.nn.Linear(filters * pooled, hidden)
        self.out = torch.nn.Linear(hidden, outputs)
        self.drop_conv = torch.nn.Dropout(0.25)
        self.drop_dense = torch.nn.Dropout(0.5)

    def forward(self, x):
        h = torch.relu(self.conv(x))
        if self.pool > 1:
            h = F.max_pool1d(h, self.pool, ceil_mode=True)
        h = self.drop_conv(h).flatten(1)
        h = self.drop_dense(torch.relu(self.dense(h)))
        return self.out(h)


def train_cnn(x_fit, y_fit, x_valid, y_valid, outputs, loss_fn, width, max_epochs, seed,
              patience=8, batch=64, lr=1e-3):
    """Adam; after every epoch the valid loss; stops after `patience` epochs without a new best
    and returns (model with the best epoch's weights, best epoch, best valid loss)."""
    torch.manual_seed(seed)
    model = SmallCNN(x_fit.shape[1], x_fit.shape[2], outputs, width)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    order = torch.Generator().manual_seed(seed)
    best = (float("inf"), 0, None)
    for epoch in range(1, max_epochs + 1):
        model.train()
        permutation = torch.randperm(len(x_fit), generator=order)
        for start in range(0, len(x_fit), batch):
            idx = permutation[start: start + batch]
            optimizer.zero_grad()
            loss_fn(model(x_fit[idx]), y_fit[idx]).backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            valid_loss = float(loss_fn(model(x_valid), y_valid))
        if valid_loss < best[0]:
            best = (valid_loss, epoch, copy.deepcopy(model.state_dict()))
        elif epoch - best[1] >= patience:
            break
    model.load_state_dict(best[2])
    model.eval()
    return model, best[1], best[0]


def conv_width(alphabet):
    return 9 if alphabet == DNA else 5


# ----------------------------------------------------------------------------------------------
# Classification tasks

def run_classification(name, spec, data_dir, models, seed, drop_test_duplicates=False):
    folder = os.path.join(data_dir, name)
    train_rows = read_table(os.path.join(folder, "train.tsv"))
    test_rows = read_table(os.path.join(folder, "test.tsv"))
    if drop_test_duplicates:
        def key(row):
            return tuple(row[c].upper() for c in spec["columns"])
        in_test = {key(r) for r in test_rows}
        before = len(train_rows)
        train_rows = [r for r in train_rows if key(r) not in in_test]
        log(f"{name}: dropped {before - len(train_rows)} train rows whose sequence is in test")
        name = f"{name} (train minus test duplicates)"
    classes = sorted({r["label"] for r in train_rows})
    label_of = {c: i for i, c in enumerate(classes)}
    n_classes = len(classes)
    valid_path = os.path.join(folder, "valid.tsv")
    if os.path.exists(valid_path):
        fit_rows, valid_rows, split = train_rows, read_table(valid_path), "valid.tsv"
    else:
        kept, held = stratified_holdout([r["label"] for r in train_rows], 0.1, seed)
        fit_rows = [train_rows[i] for i in kept]
        valid_rows = [train_rows[i] for i in held]
        split = "10% of train"
    sets = {}
    for part, rows in (("fit", fit_rows), ("valid", valid_rows), ("test", test_rows)):
        sets[part] = (Chains(rows, spec["columns"], spec["alphabet"]),
                      np.array([label_of[r["label"]] for r in rows], dtype=np.int64))
    log(f"{name}: {len(fit_rows)} fit / {len(valid_rows)} valid ({split}) / {len(test_rows)} test, "
        f"classes {classes}")
    (c_fit, y_fit), (c_valid, y_valid), (c_test, y_test) = sets["fit"], sets["valid"], sets["test"]
    lengths = c_fit.max_lengths()
    results = []
    for model in models:
        torch.manual_seed(seed)
        t0 = time.perf_counter()
        if model == "onehot":
            feats = [one_hot(c, lengths).flatten(1) for c in (c_fit, c_valid, c_test)]
            choice, prob = select_logistic([("", *feats)], y_fit, y_valid, n_classes)
        elif model == "kmer":
            ks = range(3, 7) if spec["alphabet"] == DNA else range(1, 4)
            candidates = [(f"k={k}, ", *[kmer_counts(c, k) for c in (c_fit, c_valid, c_test)])
                          for k in ks]
            choice, prob = select_logistic(candidates, y_fit, y_valid, n_classes)
        else:
            x_fit, x_valid, x_test = [one_hot(c, lengths) for c in (c_fit, c_valid, c_test)]
            net, epoch, loss = train_cnn(x_fit, torch.from_numpy(y_fit), x_valid,
                                         torch.from_numpy(y_valid), n_classes, F.cross_entropy,
                                         conv_width(spec["alphabet"]), spec["cnn_epochs"], seed)
            with torch.no_grad():
                prob = torch.softmax(net(x_test), dim=1).numpy()
            choice = f"best epoch {epoch}/{spec['cnn_epochs']}, valid CE {loss:.3f}"
        wall = time.perf_counter() - t0
        metrics = classification_metrics(prob, y_test, n_classes)
        log(f"{name} {model}: {choice}; " + ", ".join(f"{k} {v:.3f}" for k, v in metrics.items())
            + f"; {wall:.1f} s")
        results.append(dict(task=name, model=model, choice=choice, wall=wall, n_classes=n_classes,
                            **metrics))
    return results


# ----------------------------------------------------------------------------------------------
# Jain 2017: regression, 10-fold cross-validation per property

def run_jain(spec, data_dir, models, seed, folds=10):
    """Out-of-fold predictions of every property by every model, and their Spearmans. The ridge
    models fit one property at a time; the CNN fits all 12 (standardised) at once per fold, which
    costs a twelfth of per-property CNNs and shares what little signal 123 antibodies hold."""
    rows = read_table(os.path.join(data_dir, "jain2017", "all.tsv"))
    chains = Chains(rows, spec["columns"], spec["alphabet"])
    y = np.array([[float(r[p]) for p in JAIN_PROPERTIES] for r in rows])
    fold_of = np.random.default_rng(seed).permutation(len(rows)) % folds
    log(f"jain2017: {len(rows)} antibodies, {folds} folds, {len(JAIN_PROPERTIES)} properties")
    out = {}
    for model in models:
        oof = np.zeros_like(y)
        t0 = time.perf_counter()
        for f in range(folds):
            train_idx, test_idx = np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)
            c_train, c_test = chains.subset(train_idx), chains.subset(test_idx)
            lengths = c_train.max_lengths()
            if model == "cnn":
                oof[test_idx] = jain_cnn_fold(c_train, y[train_idx], c_test, lengths, spec, seed + f)
                continue
            if model == "onehot":
                feature_sets = [[one_hot(c, lengths).flatten(1).numpy() for c in (c_train, c_test)]]
            else:
                feature_sets = [[kmer_counts(c, k).to_dense().numpy() for c in (c_train, c_test)]
                                for k in range(1, 4)]
            for j in range(len(JAIN_PROPERTIES)):
                best = None
                for x_train, x_test in feature_sets:    # k (k-mers) and L2 by leave-one-out
                    mse, _, predict = ridge_fit_loo(x_train, y[train_idx, j], RIDGE_GRID)
                    if best is None or mse < best[0]:
                        best = (mse, predict(x_test))
                oof[test_idx, j] = best[1]
        wall = time.perf_counter() - t0
        per_property = {}
        for j, prop in enumerate(JAIN_PROPERTIES):
            fold_rho = [spearman(oof[fold_of == f, j], y[fold_of == f, j]) for f in range(folds)]
            per_property[prop] = (spearman(oof[:, j], y[:, j]), float(np.nanmean(fold_rho)),
                                  float(np.nanstd(fold_rho)))
        out[model] = dict(wall=wall, per_property=per_property)
        mean = np.mean([v[0] for v in per_property.values()])
        log(f"jain2017 {model}: mean pooled Spearman {mean:.3f}; {wall:.1f} s")
    return out


def jain_cnn_fold(c_train, y_train, c_test, lengths, spec, seed):
    """The CNN on heavy and light chains side by side (10 zero positions between them), one
    output per property, each standardised on the training folds; loss = mean squared error over
    all; early stopping on a random 10% of the training folds. Returns (n_test, properties)."""
    rng = np.random.default_rng(seed)
    held = np.sort(rng.permutation(len(y_train))[: max(1, round(0.1 * len(y_train)))])
    kept = np.setdiff1d(np.arange(len(y_train)), held)
    mean, std = y_train[kept].mean(axis=0), y_train[kept].std(axis=0)
    std[std == 0] = 1.0
    target = torch.from_numpy(((y_train - mean) / std).astype(np.float32))
    x_train = one_hot(c_train, lengths, gap=10)
    x_test = one_hot(c_test, lengths, gap=10)
    net, _, _ = train_cnn(x_train[kept], target[kept], x_train[held], target[held], y_train.shape[1],
                          F.mse_loss, conv_width(spec["alphabet"]), spec["cnn_epochs"], seed,
                          patience=10, batch=32)
    with torch.no_grad():
        return net(x_test).numpy() * std + mean


# ----------------------------------------------------------------------------------------------
# Report

def markdown(class_results, jain, models):
    lines = []
    if class_results:
        lines += ["| task | model | chosen on valid | accuracy | MCC | macro MCC | AUROC | macro F1 "
                  "| wall s |", "|---|---|---|---|---|---|---|---|---|"]
        for r in class_results:
            metrics = " | ".join(f"{r[k]:.3f}" for k in ("accuracy", "mcc", "macro_mcc", "auroc", "macro_f1"))
            lines.append(f"| {r['task']} | {MODEL_NAMES[r['model']]} | {r['choice']} | {metrics} "
                         f"| {r['wall']:.1f} |")
    if jain:
        names = {"onehot": "one-hot ridge", "kmer": "k-mer ridge", "cnn": "CNN"}
        if lines:
            lines.append("")
        lines += ["Jain 2017, 10-fold CV: Spearman of the pooled out-of-fold predictions "
                  "(mean +- sd of the 10 per-fold Spearmans)", "",
                  "| property | " + " | ".join(names[m] for m in models) + " |",
                  "|---|" + "---|" * len(models)]
        for prop in JAIN_PROPERTIES:
            cells = []
            for m in models:
                pooled, mean, sd = jain[m]["per_property"][prop]
                cells.append(f"{pooled:.3f} ({mean:.2f} +- {sd:.2f})")
            lines.append(f"| {prop} | " + " | ".join(cells) + " |")
        means = [np.mean([jain[m]["per_property"][p][0] for p in JAIN_PROPERTIES]) for m in models]
        lines.append("| mean over properties | " + " | ".join(f"{v:.3f}" for v in means) + " |")
        lines.append("| wall s (12 properties x 10 folds) | "
                     + " | ".join(f"{jain[m]['wall']:.1f}" for m in models) + " |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", default=",".join(TASKS),
                        help="comma-separated, from: " + ", ".join(TASKS))
    parser.add_argument("--models", default=",".join(MODELS),
                        help="comma-separated, from: onehot, kmer, cnn")
    parser.add_argument("--data", default=DEFAULT_DATA,
                        help="the tasks folder (default ../shared/data/tasks)")
    parser.add_argument("--out", help="also write the Markdown table to this file")
    parser.add_argument("--drop-test-duplicates", action="store_true",
                        help="a supplementary check: remove from train every row whose sequence is "
                             "also in test (iEnhancer's 100 strong test enhancers all are)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    tasks = [t for t in args.tasks.split(",") if t]
    models = [m for m in args.models.split(",") if m]
    for t in tasks:
        if t not in TASKS:
            parser.error(f"unknown task {t!r}")
    for m in models:
        if m not in MODELS:
            parser.error(f"unknown model {m!r}")

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    started = time.perf_counter()
    class_results, jain = [], None
    for name in tasks:
        spec = TASKS[name]
        if spec["kind"] == "classification":
            class_results += run_classification(name, spec, args.data, models, args.seed,
                                                args.drop_test_duplicates)
        else:
            jain = run_jain(spec, args.data, models, args.seed)
    table = markdown(class_results, jain, models)
    log(f"total {time.perf_counter() - started:.0f} s")
    print(table, end="")
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(table)


if __name__ == "__main__":
    main()
