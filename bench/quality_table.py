#!/usr/bin/python3
"""Writes the quality benchmark's Markdown table (issue 12, deliverable 10) from the run ledger.

bench/finetune_tasks.sh appends one line per fine-tune (or per fine-tune it could not run) to
LEDGER (a TSV: run, task, encoder, tag, status, rc, wall_s, finished, run_folder, command); this
script takes the latest line of each (task, encoder, tag), reads the test row and the best valid
epoch from the run folder's metrics.jsonl and run.json, and prints a table beside issue 12's
goals, the published figures (../shared/data/README.md) and the best simple baselines measured by
bench/baselines.py (bench/RESULTS.md, "Simple baselines on the shared tasks"). Standard library
only.

Usage: /usr/bin/python3 bench/quality_table.py LEDGER OUT.md [TASK ...]
"""
import csv
import json
import os
import sys

# The order of the table, and what each task is measured by.
TASKS = ["splice", "ecoli_promoters", "ienhancer_layer1", "ienhancer_layer2", "mason_her2",
         "jain2017"]

# Issue 12's goals (test split, 2 cores).
GOALS = {
    "splice": "acc >= 0.965 (best recipe); quick start >= 0.93",
    "ecoli_promoters": "MCC >= 0.87",
    "ienhancer_layer1": "ACC >= 0.830, MCC >= 0.66",
    "ienhancer_layer2": "(none)",
    "mason_her2": "AUROC >= 0.93",
    "jain2017": "10-fold CV Spearman per property",
}

# ../shared/data/README.md (accuracy as a fraction; iEnhancer ACC / MCC / AUROC).
PUBLISHED = {
    "splice": "StatLog acc: RBF 0.959, DIPOL92 0.952, Alloc80 0.943, BackProp 0.912, k-NN 0.845",
    "ecoli_promoters": "Genomic-ULMFiT acc 0.956 / MCC 0.871; Umarov CNN CC 0.84 (own splits)",
    "ienhancer_layer1": "2L 0.730 / 0.460 / 0.806; ECNN 0.769 / 0.537 / 0.832; DCSA 0.825 / 0.651",
    "ienhancer_layer2": "2L 0.605 / 0.218 / 0.668",
    "mason_her2": "none in the data README",
    "jain2017": "none in the data README",
}

# bench/RESULTS.md, "Simple baselines on the shared tasks (issue 12)": best of one-hot LR, k-mer
# LR and CNN on the same test split (acc / MCC / AUROC).
BASELINES = {
    "splice": "one-hot LR 0.958 / 0.932 / 0.992; CNN 0.957 / 0.931 / 0.993",
    "ecoli_promoters": "k-mer LR 0.918 / 0.750 / 0.963; CNN 0.910 / 0.744 / 0.962",
    "ienhancer_layer1": "CNN 0.752 / 0.506 / 0.824",
    "ienhancer_layer2": "CNN 0.700 / 0.462 / 0.817 (0.585 / 0.177 / 0.578 without test duplicates in train)",
    "mason_her2": "CNN 0.854 / 0.655 / 0.912",
    "jain2017": "k-mer ridge, 10-fold CV: mean Spearman 0.176 (psr 0.37)",
}


def read_ledger(path):
    latest = {}
    if not os.path.exists(path):
        return latest
    with open(path, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            latest[(row["task"], row["encoder"], row["tag"])] = row
    return latest


def run_facts(folder):
    """(test row or None, best valid epoch, epochs run, pooling) of a finished run folder."""
    test, epochs = None, set()
    try:
        with open(os.path.join(folder, "metrics.jsonl")) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                row = json.loads(line)
                if row.get("split") == "test":
                    test = row
                elif row.get("split") == "valid" and "epoch" in row:
                    epochs.add(row["epoch"])
    except OSError:
        pass
    best = None
    try:
        with open(os.path.join(folder, "run.json")) as f:
            best = ((json.load(f).get("task") or {}).get("best") or {}).get("epoch")
    except (OSError, ValueError):
        pass
    pooling = ""
    try:
        with open(os.path.join(folder, "model.json")) as f:
            model = json.load(f)
            head = model.get("head") or (model.get("task") or {}).get("head") or {}
            pooling = head.get("pooling", "") if isinstance(head, dict) else ""
    except (OSError, ValueError):
        pass
    return test, best, len(epochs), pooling


def cv_facts(folder):
    """(mean, sd, {property: (mean, sd)}) of the Spearman in a cross-validation's cv.json."""
    try:
        with open(os.path.join(folder, "cv.json")) as f:
            metrics = json.load(f)["metrics"]
    except (OSError, ValueError, KeyError):
        return None
    overall = metrics.get("spearman")
    if overall is None:
        return None
    per_property = {}
    for name, value in metrics.items():
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "targets" and parts[2] == "spearman":
            per_property[parts[1]] = (value["mean"], value["sd"])
    return overall["mean"], overall["sd"], per_property


def fmt(v):
    return f"{v:.3f}" if isinstance(v, (int, float)) else "-"


def main():
    ledger, out = sys.argv[1:3]
    selected = sys.argv[3:] or TASKS
    latest = read_ledger(ledger)
    lines = [
        "| task | encoder | variant | accuracy | MCC | AUROC | best epoch / run | wall s | goal (issue 12) | published | best simple baseline (acc / MCC / AUROC) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    commands, cv_lines = [], []
    for task in TASKS:
        if task not in selected:
            continue
        rows = sorted((r for (t, _, _), r in latest.items() if t == task),
                      key=lambda r: (r["encoder"] != "pretrained", r["tag"] != "", r["tag"]))
        first = True

        def side():
            nonlocal first
            cells = [GOALS[task], PUBLISHED[task], BASELINES[task]] if first else ["", "", ""]
            first = False
            return cells

        if not rows:
            lines.append("| " + " | ".join([task, "-", "not run", "", "", "", "", ""] + side())
                         + " |")
            continue
        for r in rows:
            variant = r["tag"] or "recipe"
            if r["status"] != "ok":
                cells = [task, r["encoder"], f"{r['tag']}: {r['status']}" if r["tag"] else r["status"],
                         "", "", "", "",
                         r["wall_s"] if r["status"].startswith("failed") else ""]
            elif task == "jain2017":
                cv = cv_facts(r["run_folder"])
                if cv is None:
                    cells = [task, r["encoder"], f"{variant}: no cv.json", "", "", "", "",
                             r["wall_s"]]
                else:
                    mean, sd, per_property = cv
                    cells = [task, r["encoder"],
                             f"{variant}: 10-fold CV, mean Spearman {fmt(mean)} +- {fmt(sd)}",
                             "-", "-", "-", "-", r["wall_s"]]
                    ranked = sorted(per_property.items(), key=lambda kv: -(kv[1][0] or 0))
                    cv_lines.append(f"- jain2017, {r['encoder']}, {variant}: " + ", ".join(
                        f"{name} {fmt(m)} +- {fmt(d)}" for name, (m, d) in ranked))
            else:
                test, best, epochs, pooling = run_facts(r["run_folder"])
                if pooling:
                    variant += f" ({pooling} head)"
                if test is None:
                    cells = [task, r["encoder"], f"{variant}: no test row", "", "", "", "",
                             r["wall_s"]]
                else:
                    cells = [task, r["encoder"], variant, fmt(test.get("accuracy")),
                             fmt(test.get("mcc")), fmt(test.get("auroc")),
                             f"{best if best is not None else '?'} / {epochs}", r["wall_s"]]
            lines.append("| " + " | ".join(cells + side()) + " |")
            if r["command"]:
                commands.append(f"- {task}, {r['encoder']}, {variant}: `{r['command']}`")
    text = "\n".join(lines) + "\n"
    if cv_lines:
        text += ("\nJain 2017 per property (mean +- sd of the folds' test Spearman):\n\n"
                 + "\n".join(cv_lines) + "\n")
    if commands:
        text += "\nCommands (as run, from the repository root):\n\n" + "\n".join(commands) + "\n"
    with open(out, "w") as f:
        f.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
