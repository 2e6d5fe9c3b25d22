#!/usr/bin/env bash
# scripts/ulmfit-ensemble on 300 rows of the shipped splice table, with a tiny model: it trains a
# forward and a backward language model and a classifier on each, each reading the way its
# language model was pretrained; the ensemble's metrics name both; a second call reuses the
# finished runs; a fine-tuning recipe without a test table is refused before anything trains.
#   tests/scripts/ulmfit_ensemble_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d)
trap '[[ -n ${KEEP:-} ]] || rm -rf "$work"' EXIT
fail() {
  echo "ulmfit-ensemble test: $*" >&2
  exit 1
}
export GENOLM=$build/genolm
script=$root/scripts/ulmfit-ensemble
splice=$root/configs/quickstart/splice_statlog

head -301 "$splice/train.tsv" >"$work/train.tsv"
head -101 "$splice/test.tsv" >"$work/test.tsv"
cat >"$work/lm.toml" <<TOML
[run]
seed = 1
[data]
train = ["$work/train.tsv"]
sequence_columns = ["sequence"]
valid_fraction = 0.1
[model]
emb_size = 16
hidden_size = 32
layers = 2
[train]
device = "cpu"
batch_size = 8
bptt = 20
max_steps = 8
eval_every = 8
checkpoint_every = 8
TOML
cat >"$work/task.toml" <<TOML
[run]
seed = 1
[task]
train = "$work/train.tsv"
test = "$work/test.tsv"
sequence_columns = ["sequence"]
label_columns = ["label"]
valid_fraction = 0.1
[train]
device = "cpu"
batch_size = 32
[finetune]
stage_epochs = [1]
stage_lrs = [1e-2]
TOML

"$script" --lm "$work/lm.toml" --task "$work/task.toml" --name sp --dir "$work/runs" \
  --threads 2 >"$work/out.txt" 2>&1 || fail "first call failed: $(tail -20 "$work/out.txt")"
direction() { /usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("direction", "forward"))' "$1/model.json"; }
for run in sp_lm_fwd sp_fwd; do
  [[ $(direction "$work/runs/$run") == forward ]] || fail "$run does not read forward"
done
for run in sp_lm_bwd sp_bwd; do
  [[ $(direction "$work/runs/$run") == backward ]] || fail "$run does not read backward"
done
/usr/bin/python3 - "$work/runs/sp_ensemble.json" "$work/runs" <<'PY' || fail "ensemble metrics: $(cat "$work/runs/sp_ensemble.json")"
import json, sys
metrics = json.load(open(sys.argv[1]))
assert metrics["models"] == [f"{sys.argv[2]}/sp_fwd", f"{sys.argv[2]}/sp_bwd"], metrics["models"]
assert metrics["examples"] == 100, metrics["examples"]
assert 0 <= metrics["accuracy"] <= 1
PY
grep -q "ensemble " "$work/out.txt" || fail "no ensemble row in the summary: $(cat "$work/out.txt")"

"$script" --lm "$work/lm.toml" --task "$work/task.toml" --name sp --dir "$work/runs" \
  >"$work/again.txt" 2>&1 || fail "second call failed: $(tail -20 "$work/again.txt")"
[[ $(grep -c "is finished: reused" "$work/again.txt") == 4 ]] ||
  fail "a second call did not reuse the four runs: $(cat "$work/again.txt")"

sed '/^test = /d' "$work/task.toml" >"$work/no_test.toml"
set +e
"$script" --lm "$work/lm.toml" --task "$work/no_test.toml" --name nt --dir "$work/runs" \
  >"$work/no_test.txt" 2>&1
status=$?
set -e
[[ $status == 2 ]] || fail "a recipe without task.test gave status $status, not 2"
grep -q "has no task.test" "$work/no_test.txt" || fail "no clear error: $(cat "$work/no_test.txt")"
[[ ! -e $work/runs/nt_lm_fwd ]] || fail "a language model was trained before the error"
echo "ulmfit-ensemble test: ok"
