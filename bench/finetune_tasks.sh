#!/usr/bin/env bash
# Fine-tuning benchmark: every recipe in configs/finetune/ on the ready-made tables in
# ../shared/data/tasks, once with its pretrained encoder (run.name=<task>_pre) and once from
# scratch (run.name=<task>_scratch: encoder.from= , emb 128, hidden 512), one job at a time.
#
# Usage (from anywhere; it cd's to the repository root):
#   bench/finetune_tasks.sh [TASK ...]
#   TASK: splice mason_her2 jain2017 ecoli_promoters ienhancer ienhancer2 (default: all, this order)
#   THREADS=1 (default) is passed as `build/genolm --threads $THREADS`.
#
# Writes bench/out/finetune_results.tsv (one row per fine-tune: task, encoder, status, wall_s and
# the test metrics of the last "split":"test" row of runs/<name>/metrics.jsonl),
# bench/out/pretrain_results.tsv (the encoders it had to pretrain: last valid row) and a log per
# run in bench/out/logs/. Needs build/genolm and /usr/bin/python3 (standard library only).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

THREADS="${THREADS:-1}"
BIN=build/genolm
DATA=../shared/data/tasks
OUT=bench/out
LOGS=$OUT/logs
RESULTS=$OUT/finetune_results.tsv
PRETRAIN_RESULTS=$OUT/pretrain_results.tsv
PY=/usr/bin/python3
mkdir -p "$LOGS"

if [[ ! -s $RESULTS ]]; then
  printf 'task\tencoder\tstatus\twall_s\taccuracy\tmcc\tauroc\tmacro_f1\tspearman\tpearson\tr2\trmse\ttarget_spearman\terror\n' >"$RESULTS"
fi
if [[ ! -s $PRETRAIN_RESULTS ]]; then
  printf 'run\tstatus\twall_s\tstep\tvalid_loss\tvalid_accuracy\tvalid_perplexity\terror\n' >"$PRETRAIN_RESULTS"
fi

log() { echo "[$(date '+%F %T')] $*"; }

# Run genolm; retry (every 30 s, up to 20 times) while the binary is missing or cannot be
# executed (it may be being rebuilt by someone else). Output goes to the given log file.
# Sets global RC and WALL.
genolm() {
  local logfile=$1; shift
  local tries=0 t0 t1
  while :; do
    if [[ ! -x $BIN ]]; then
      tries=$((tries + 1))
      if ((tries > 20)); then RC=127; WALL=0; echo "genolm: $BIN missing" >>"$logfile"; return; fi
      log "$BIN missing, waiting 30 s"; sleep 30; continue
    fi
    t0=$(date +%s.%N)
    set +e
    "$BIN" --threads "$THREADS" "$@" >"$logfile" 2>&1
    RC=$?
    set -e
    t1=$(date +%s.%N)
    WALL=$($PY -c "print(f'{$t1 - $t0:.1f}')")
    if ((RC == 126 || RC == 127)) && ((tries < 20)); then
      tries=$((tries + 1)); log "exec error (rc $RC), waiting 30 s and retrying"; sleep 30; continue
    fi
    return
  done
}

# Last error-ish line of a log, made safe for a TSV cell.
error_text() {
  local logfile=$1 rc=$2 line
  line=$(grep -iE 'error|what\(\)|exception|terminate|abort|fail' "$logfile" | tail -1 || true)
  [[ -z $line ]] && line=$(tail -1 "$logfile" 2>/dev/null || true)
  printf 'rc=%s: %s' "$rc" "$line" | tr '\t\r\n' '   ' | cut -c1-300
}

# The last row of split $1 in metrics file $2, as JSON {"row": ROW or null, "error": TEXT}; the
# error is empty unless the file could not be read.
last_metrics_row() {
  $PY - "$1" "$2" <<'EOF'
import json, sys
split, path = sys.argv[1:3]
last, error = None, ""
try:
    for line in open(path):
        line = line.strip()
        if line:
            row = json.loads(line)
            if row.get("split") == split:
                last = row
except OSError as e:
    error = f"no metrics: {e}"
print(json.dumps({"row": last, "error": error}))
EOF
}

pretrain() {  # pretrain RUN_NAME CONFIG [--set ...]
  local name=$1; shift
  if [[ -f runs/$name/encoder.pt ]]; then log "encoder runs/$name present"; return; fi
  rm -rf "runs/$name"
  log "pretrain $name: $*"
  genolm "$LOGS/pretrain_$name.log" pretrain --config "$@"
  local status=ok err=""
  if ((RC != 0)) || [[ ! -f runs/$name/encoder.pt ]]; then status=failed; err=$(error_text "$LOGS/pretrain_$name.log" "$RC"); fi
  log "pretrain $name: $status (rc $RC, ${WALL}s)"
  $PY - "$(last_metrics_row valid "runs/$name/metrics.jsonl")" "$name" "$status" "$WALL" "$err" >>"$PRETRAIN_RESULTS" <<'EOF'
import json, sys
found, name, status, wall, err = sys.argv[1:6]
found = json.loads(found)
last, err = found["row"], err or found["error"]
f = lambda k: "" if last is None or k not in last else f"{last[k]:.4f}"
print("\t".join([name, status, wall, "" if last is None else str(last.get("step", "")),
                 f("loss"), f("accuracy"), f("perplexity"), err]))
EOF
}

record() {  # record TASK ENCODER RUN_NAME LOGFILE
  local task=$1 enc=$2 name=$3 logfile=$4 status=ok err=""
  if ((RC != 0)); then status=failed; err=$(error_text "$logfile" "$RC"); fi
  $PY - "$(last_metrics_row test "runs/$name/metrics.jsonl")" "$task" "$enc" "$status" "$WALL" "$err" >>"$RESULTS" <<'EOF'
import json, sys
found, task, enc, status, wall, err = sys.argv[1:7]
found = json.loads(found)
last, err = found["row"], err or found["error"]
if last is None and status == "ok":
    status, err = "no_test_row", err or "metrics.jsonl has no split=test row"
def f(k):
    v = None if last is None else last.get(k)
    return "" if not isinstance(v, (int, float)) else f"{v:.4f}"
targets = "" if last is None else ";".join(
    f"{t}={m['spearman']:.3f}" for t, m in sorted((last.get("targets") or {}).items())
    if isinstance(m.get("spearman"), (int, float)))
cols = [task, enc, status, wall] + [f(k) for k in
        ("accuracy", "mcc", "auroc", "macro_f1", "spearman", "pearson", "r2", "rmse")] + [targets, err]
print("\t".join(cols))
EOF
  log "finetune $name: $status (rc $RC, ${WALL}s)"
}

finetune_pair() {  # finetune_pair TASK CONFIG [--set ...]
  local task=$1 config=$2; shift 2
  local name logfile
  name=${task}_pre; logfile=$LOGS/$name.log
  rm -rf "runs/$name"
  log "finetune $name"
  genolm "$logfile" finetune --config "$config" "$@" --set "run.name=$name"
  record "$task" pretrained "$name" "$logfile"

  name=${task}_scratch; logfile=$LOGS/$name.log
  rm -rf "runs/$name"
  log "finetune $name"
  genolm "$logfile" finetune --config "$config" "$@" --set "run.name=$name" \
    --set encoder.from= --set model.emb_size=128 --set model.hidden_size=512
  record "$task" scratch "$name" "$logfile"
}

need_quickstart() { pretrain quickstart configs/quickstart/chr22_awd_lstm.toml; }
need_antibody() {
  pretrain antibody_small_lm configs/antibody/antibody_small_lm.toml \
    --set data.train=../shared/data/antibody/repertoire/tigger_SampleDb_VDJ_aa.fasta
}
need_ecoli() { pretrain ecoli_small configs/pretrain/ecoli_small_awd_lstm.toml; }

run_task() {
  case $1 in
    splice)
      need_quickstart
      finetune_pair splice configs/finetune/splice.toml ;;
    mason_her2)
      need_antibody
      finetune_pair mason_her2 configs/finetune/mason_her2.toml \
        --set "task.train=$DATA/mason_her2/train.tsv" \
        --set "task.valid=$DATA/mason_her2/valid.tsv" \
        --set "task.test=$DATA/mason_her2/test.tsv" ;;
    jain2017)
      need_antibody
      finetune_pair jain2017 configs/finetune/jain2017.toml \
        --set "task.train=$DATA/jain2017/all.tsv" ;;
    ecoli_promoters)
      need_ecoli
      finetune_pair ecoli_promoters configs/finetune/ecoli_promoters.toml \
        --set "task.train=$DATA/ecoli_promoters/train.tsv" \
        --set "task.test=$DATA/ecoli_promoters/test.tsv" ;;
    ienhancer)
      need_quickstart
      finetune_pair ienhancer configs/finetune/ienhancer.toml \
        --set "task.train=$DATA/ienhancer_layer1/train.tsv" \
        --set "task.test=$DATA/ienhancer_layer1/test.tsv" ;;
    ienhancer2)
      need_quickstart
      finetune_pair ienhancer2 configs/finetune/ienhancer.toml \
        --set "task.train=$DATA/ienhancer_layer2/train.tsv" \
        --set "task.test=$DATA/ienhancer_layer2/test.tsv" ;;
    *) echo "unknown task: $1" >&2; exit 2 ;;
  esac
}

TASKS=("$@")
((${#TASKS[@]})) || TASKS=(splice mason_her2 jain2017 ecoli_promoters ienhancer ienhancer2)
log "tasks: ${TASKS[*]} (threads $THREADS)"
for t in "${TASKS[@]}"; do run_task "$t"; done
log "done; results in $RESULTS"
column -t -s $'\t' "$RESULTS" || cat "$RESULTS"
