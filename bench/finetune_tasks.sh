#!/usr/bin/env bash
# Quality benchmark (issue 12, deliverable 10): every task of ../shared/data/tasks fine-tuned the
# way its recipe in configs/finetune/ says, with the recipe's pretrained encoder (when that
# pretraining run exists) and without pretraining ("scratch": encoder.from= , emb 128, hidden 512,
# the same encoder size randomly initialised, trained in one 12-epoch cycle at 2e-3), one job at a
# time; then a Markdown table of the test metrics and wall times beside issue 12's goals, the
# published figures and the simple baselines of bench/RESULTS.md.
#
# Usage (from anywhere; it cd's to the repository root):
#   bench/finetune_tasks.sh [--tasks LIST] [--encoders LIST] [--tag NAME --set KEY=VALUE ...]
#                           [--pretrain] [--report]
#   --tasks     comma-separated, default all, in this order:
#               splice,ecoli_promoters,ienhancer_layer1,ienhancer_layer2,mason_her2,jain2017
#               (jain2017 is 10-fold cross-validation, configs/finetune/jain2017_cv.toml: ten
#               fine-tunes per encoder)
#   --encoders  pretrained,scratch (default both)
#   --tag NAME  a variant: its runs are named <task>_<encoder>_<NAME> and every following
#               --set KEY=VALUE is passed to genolm finetune after the recipe's own settings
#               (e.g. --tag long --set 'finetune.stage_epochs=[1,1,1,20]' --set finetune.patience=5)
#   --pretrain  pretrain a missing encoder with its recipe first (long: minutes to hours); without
#               it a missing encoder gives the row "not run: runs/X missing"
#   --report    run nothing; rewrite the table from the ledger
# Environment: THREADS=1 (genolm --threads), BIN=build/genolm, RUN_DIR=runs (run.dir of the
# fine-tunes; encoders are always read from runs/), OUT=bench/out.
#
# Writes $OUT/quality.md (the table, and every row's command), appends one line per fine-tune to
# the ledger $OUT/quality_runs.tsv (a rerun of the same task, encoder and tag replaces its row in
# the table), a log per run in $OUT/logs/, and $OUT/pretrain_results.tsv with --pretrain. Needs
# /usr/bin/python3 (standard library only). The numbers are in bench/RESULTS.md ("Quality
# benchmark"). Benchmark on an otherwise idle machine; set OMP_WAIT_POLICY=PASSIVE when it is not.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

THREADS="${THREADS:-1}"
BIN="${BIN:-build/genolm}"
RUN_DIR="${RUN_DIR:-runs}"
OUT="${OUT:-bench/out}"
DATA=../shared/data/tasks
LOGS=$OUT/logs
LEDGER=$OUT/quality_runs.tsv
PRETRAIN_RESULTS=$OUT/pretrain_results.tsv
PY=/usr/bin/python3
ALL_TASKS=(splice ecoli_promoters ienhancer_layer1 ienhancer_layer2 mason_her2 jain2017)

TASKS=("${ALL_TASKS[@]}")
ENCODERS=(pretrained scratch)
TAG=""
EXTRA=()
PRETRAIN=0
REPORT_ONLY=0
while (($#)); do
  case $1 in
    --tasks) IFS=, read -r -a TASKS <<<"$2"; shift 2 ;;
    --encoders) IFS=, read -r -a ENCODERS <<<"$2"; shift 2 ;;
    --tag) TAG=$2; shift 2 ;;
    --set) EXTRA+=(--set "$2"); shift 2 ;;
    --pretrain) PRETRAIN=1; shift ;;
    --report) REPORT_ONLY=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
for t in "${TASKS[@]}"; do
  [[ " ${ALL_TASKS[*]} " == *" $t "* ]] || { echo "unknown task: $t" >&2; exit 2; }
done
for e in "${ENCODERS[@]}"; do
  [[ $e == pretrained || $e == scratch ]] || { echo "unknown encoder: $e" >&2; exit 2; }
done
if ((${#EXTRA[@]})) && [[ -z $TAG ]]; then
  echo "--set needs --tag NAME (a variant's runs must not overwrite the recipe's)" >&2; exit 2
fi

mkdir -p "$LOGS" "$RUN_DIR"
if [[ ! -s $LEDGER ]]; then
  printf 'run\ttask\tencoder\ttag\tstatus\trc\twall_s\tfinished\trun_folder\tcommand\n' >"$LEDGER"
fi

log() { echo "[$(date '+%F %T')] $*"; }

ledger() {  # ledger RUN TASK ENCODER STATUS RC WALL FOLDER COMMAND
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$TAG" "$4" "$5" "$6" \
    "$(date -u '+%F %T UTC')" "$7" "$(printf '%s' "$8" | tr '\t\n' '  ')" >>"$LEDGER"
}

# Run genolm with its output in the given log file; sets RC and WALL.
genolm() {
  local logfile=$1; shift
  local t0 t1
  if [[ ! -x $BIN ]]; then RC=127; WALL=0; echo "genolm: $BIN missing" >"$logfile"; return; fi
  t0=$(date +%s.%N)
  set +e
  "$BIN" --threads "$THREADS" "$@" >"$logfile" 2>&1
  RC=$?
  set -e
  t1=$(date +%s.%N)
  WALL=$($PY -c "print(f'{$t1 - $t0:.0f}')")
}

# Last error-ish line of a log, made safe for a TSV cell.
error_text() {
  local line
  line=$(grep -iE 'error|what\(\)|exception|terminate|abort|fail' "$1" | tail -1 || true)
  [[ -z $line ]] && line=$(tail -1 "$1" 2>/dev/null || true)
  printf '%s' "$line" | tr '\t\r\n|' '    ' | cut -c1-200
}

# A command as one line a shell reads back: arguments with special characters in single quotes.
quote() {
  local out="" a
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./=:,+@%-]+$ ]]; then out+=" $a"; else out+=" '${a//\'/\'\\\'\'}'"; fi
  done
  printf '%s' "${out# }"
}

# The encoders the recipes name (by their folder under runs/ or models/), and how to pretrain
# them (only with --pretrain; a shipped model under models/ is never retrained here).
pretrain_encoder() {  # pretrain_encoder RUN_NAME
  local name=$1 args
  case $name in
    quickstart) args=(configs/quickstart/chr22_awd_lstm.toml) ;;
    ecoli_small) args=(configs/pretrain/ecoli_small_awd_lstm.toml) ;;
    antibody_small_lm) args=(configs/antibody/antibody_small_lm.toml
      --set data.train=../shared/data/antibody/repertoire/tigger_SampleDb_VDJ_aa.fasta) ;;
    *) echo "no pretraining recipe for runs/$name" >&2; return 1 ;;
  esac
  [[ -s $PRETRAIN_RESULTS ]] || printf 'run\tstatus\twall_s\tcommand\n' >"$PRETRAIN_RESULTS"
  rm -rf "runs/$name"
  log "pretrain runs/$name: ${args[*]}"
  genolm "$LOGS/pretrain_$name.log" pretrain --config "${args[@]}"
  local status=ok
  ((RC == 0)) && [[ -f runs/$name/encoder.safetensors ]] || status="failed rc=$RC"
  printf '%s\t%s\t%s\t%s\n' "$name" "$status" "$WALL" \
    "$(quote "$BIN" --threads "$THREADS" pretrain --config "${args[@]}")" >>"$PRETRAIN_RESULTS"
  log "pretrain runs/$name: $status (${WALL}s)"
  [[ $status == ok ]]
}

finetune_one() {  # finetune_one TASK ENCODER CONFIG [--set ...]
  local task=$1 enc=$2 config=$3; shift 3
  local name=${task}_${enc}${TAG:+_$TAG} encoder_run logfile cmd status
  logfile=$LOGS/$name.log
  # encoder.from is relative to the recipe's folder; encoder_run is that path from the root.
  encoder_run=$(sed -n 's/^from *= *"\(.*\)".*/\1/p' "$config" | head -1)
  encoder_run=$(realpath -m --relative-to=. "$(dirname "$config")/$encoder_run")
  local args=(finetune --config "$config" "$@")
  if [[ $enc == scratch ]]; then
    # The recipes' stages are for pretrained encoders; a new one trains in one cycle at 2e-3
    # (E. coli from scratch: MCC 0.15 under the recipe's stages, 0.74 so; bench/RESULTS.md).
    args+=(--set encoder.from= --set model.emb_size=128 --set model.hidden_size=512
      --set 'finetune.stage_epochs=[12]' --set 'finetune.stage_lrs=[2e-3]')
  elif [[ ! -f $encoder_run/encoder.safetensors && ! -f $encoder_run/language_model.safetensors ]]; then
    if ((PRETRAIN)) && [[ $encoder_run == runs/* ]] && pretrain_encoder "${encoder_run#runs/}"; then :; else
      log "finetune $name: not run, $encoder_run missing"
      ledger "$name" "$task" "$enc" "not run: $encoder_run missing" "" "" "" ""
      return
    fi
  fi
  args+=(--set "run.dir=$RUN_DIR" --set "run.name=$name" "${EXTRA[@]}")
  cmd=$(quote "$BIN" --threads "$THREADS" "${args[@]}")
  rm -rf "${RUN_DIR:?}/$name"
  log "finetune $name: $cmd"
  genolm "$logfile" "${args[@]}"
  status=ok
  ((RC == 0)) || status="failed rc=$RC: $(error_text "$logfile")"
  ledger "$name" "$task" "$enc" "$status" "$RC" "$WALL" "$RUN_DIR/$name" "$cmd"
  log "finetune $name: ${status} (${WALL}s)"
}

run_task() {
  local task=$1 enc=$2
  case $task in
    splice)
      finetune_one splice "$enc" configs/finetune/splice.toml ;;
    ecoli_promoters)
      finetune_one "$task" "$enc" configs/finetune/ecoli_promoters.toml \
        --set "task.train=$DATA/ecoli_promoters/train.tsv" \
        --set "task.test=$DATA/ecoli_promoters/test.tsv" ;;
    ienhancer_layer1|ienhancer_layer2)
      finetune_one "$task" "$enc" configs/finetune/ienhancer.toml \
        --set "task.train=$DATA/$task/train.tsv" \
        --set "task.test=$DATA/$task/test.tsv" ;;
    mason_her2)
      finetune_one "$task" "$enc" configs/finetune/mason_her2.toml \
        --set "task.train=$DATA/mason_her2/train.tsv" \
        --set "task.valid=$DATA/mason_her2/valid.tsv" \
        --set "task.test=$DATA/mason_her2/test.tsv" ;;
    jain2017)
      finetune_one jain2017 "$enc" configs/finetune/jain2017_cv.toml \
        --set "task.train=$DATA/jain2017/all.tsv" ;;
  esac
}

if ((!REPORT_ONLY)); then
  log "tasks: ${TASKS[*]}; encoders: ${ENCODERS[*]}${TAG:+; variant $TAG: ${EXTRA[*]}} (threads $THREADS, $BIN, run.dir $RUN_DIR)"
  for t in "${TASKS[@]}"; do
    for e in "${ENCODERS[@]}"; do
      run_task "$t" "$e"
    done
  done
fi
$PY bench/quality_table.py "$LEDGER" "$OUT/quality.md"
log "table in $OUT/quality.md"
