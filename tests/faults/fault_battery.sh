#!/usr/bin/env bash
# The fault battery: genolm's real binaries under the faults a cluster throws at them, each in a
# few seconds. Every scenario must end in a clear error (naming the file and the reason) or an
# exact resume, and whatever the run folder held before must still be there, byte for byte.
#   fault_battery.sh SCENARIO BUILD_DIR
# Scenarios: full_disk, read_only, damaged_files, concurrent_resume, sigkill.
# Full disk and read-only output are real: a small tmpfs, and one remounted read-only, in a mount
# namespace of the script's own (as root, or as a user through a user namespace).
set -euo pipefail
scenario=$1
build=$(cd "$2" && pwd)
genolm="$build/genolm"

if [ -z "${GENOLM_FAULTS_NS:-}" ]; then
  export GENOLM_FAULTS_NS=1
  if [ "$(id -u)" = 0 ]; then exec unshare -m --propagation private "$0" "$@"; fi
  exec unshare -Urm "$0" "$@"
fi

work=$(mktemp -d /tmp/genolm-faults-XXXXXX)
trap 'umount -l "$work/disk" 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAULT BATTERY FAILED ($scenario): $*" >&2; exit 1; }

# A 3-mer DNA genome of 120 kbp (a fixed pseudo-random sequence: no data files needed).
python3 - <<'PY'
import random
random.seed(7)
bases = "".join(random.choice("ACGT") for _ in range(120000))
with open("genome.fa", "w") as out:
    out.write(">chr\n" + "\n".join(bases[i:i + 80] for i in range(0, len(bases), 80)) + "\n")
PY

# recipe NAME RUNS_DIR MAX_STEPS
recipe() {
  cat >"$1.toml" <<TOML
[run]
name = "$1"
dir = "$2"
seed = 7
[data]
train = ["$work/genome.fa"]
valid_fraction = 0.05
valid_block_bases = 2000
[tokenizer]
kind = "kmer"
k = 3
[model]
emb_size = 24
hidden_size = 48
layers = 2
[train]
device = "cpu"
batch_size = 16
bptt = 30
lr = 1e-2
max_steps = $3
log_every = 1
eval_every = 20
checkpoint_every = 5
TOML
}
pretrain() { "$genolm" --threads 1 --log-level warn pretrain --config "$@"; }

# Every file under a folder with its checksum, but for the append-only logs (compared as prefixes)
# and config.toml, which a resume with new --set values rewrites (whole: it must still parse).
snapshot() { (cd "$1" && find . -type f ! -name train.log ! -name metrics.jsonl ! -name .lock \
  ! -name config.toml \
  -print0 | sort -z | xargs -0 sha256sum) >"$2"; cp "$1/metrics.jsonl" "$2.metrics"; }
unchanged() {
  local now
  now=$(mktemp)
  snapshot "$1" "$now"
  diff "$2" "$now" >/dev/null || { diff "$2" "$now" | head; fail "files of $1 changed or vanished"; }
  head -c "$(stat -c %s "$2.metrics")" "$1/metrics.jsonl" | cmp -s - "$2.metrics" ||
    fail "metrics.jsonl lost rows it had"
  python3 -c "import sys,tomllib;tomllib.load(open(sys.argv[1],'rb'))" "$1/config.toml" ||
    fail "config.toml is damaged"
}
# expect_error "WHAT" COMMAND...: the command fails with status 1 and its stderr holds WHAT.
expect_error() {
  local what=$1
  shift
  set +e
  "$@" 2>err.txt >/dev/null
  local rc=$?
  set -e
  [ $rc -eq 1 ] || { cat err.txt; fail "expected exit status 1, got $rc from: $*"; }
  grep -qF -- "$what" err.txt || { cat err.txt; fail "the error does not say '$what'"; }
  echo "  clear error: $(grep -m1 'error' err.txt | cut -c1-200)"
}
train_losses() { python3 -c "
import json,sys
rows=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print('\n'.join(f\"{r['step']} {r['loss']!r}\" for r in rows if r.get('split')=='train'))" "$1"; }

case "$scenario" in
full_disk)
  # A run that trained on a disk with room, resumed once the disk is full.
  mkdir disk && mount -t tmpfs -o size=6m tmpfs disk
  recipe run disk/runs 20
  pretrain run.toml
  snapshot disk/runs/run before
  fallocate -l "$(($(df --output=avail -B1 disk | tail -1) - 4096))" disk/filler 2>/dev/null ||
    dd if=/dev/zero of=disk/filler bs=64k status=none || true
  expect_error "No space left on device" pretrain run.toml --resume --set train.max_steps=60
  unchanged disk/runs/run before
  rm disk/filler
  pretrain run.toml --resume --set train.max_steps=60
  grep -q '"finished"' disk/runs/run/run.json || fail "the resumed run did not finish"
  ;;
read_only)
  mkdir disk && mount -t tmpfs -o size=64m tmpfs disk
  recipe run disk/runs 10
  pretrain run.toml
  snapshot disk/runs/run before
  # A reference without its .fai index, where no index can be written.
  printf '>c1\nACGTACGTACGTACGTACGTACGTACGTACGTACGTACGT\n' >disk/ref.fa
  printf '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nc1\t5\tv1\tA\tG\t.\t.\t.\n' \
    >disk/v.vcf
  mount -o remount,ro disk
  expect_error "Read-only file system" pretrain run.toml --resume --set train.max_steps=20
  expect_error "Read-only file system" "$genolm" embed --model disk/runs/run --input genome.fa \
    --out disk/emb.npy
  expect_error "has no index (ref.fa.fai) and its folder disk is not writable" "$genolm" variants \
    --model disk/runs/run --vcf disk/v.vcf --reference disk/ref.fa --out variants.tsv
  mount -o remount,rw disk
  unchanged disk/runs/run before
  ;;
damaged_files)
  recipe run runs 10
  pretrain run.toml
  run=runs/run
  cp -a "$run" pristine
  # Truncated weights: embed (which reads the whole language model) names the file.
  head -c 1000 pristine/language_model.safetensors >"$run/language_model.safetensors"
  expect_error "language_model.safetensors is not a valid safetensors file" "$genolm" embed \
    --model "$run" --input genome.fa --out emb.npy
  cp pristine/language_model.safetensors "$run/"
  # A flipped byte in the newest checkpoint: resume names it and says what to do.
  newest=$(ls "$run"/checkpoints/step-*.safetensors | tail -1)
  python3 -c "import sys;p=sys.argv[1];b=bytearray(open(p,'rb').read());b[-7]^=1;open(p,'wb').write(b)" "$newest"
  expect_error "is damaged: its bytes do not match the checksum" pretrain run.toml --resume \
    --set train.max_steps=20
  cp pristine/checkpoints/"$(basename "$newest")" "$run/checkpoints/"
  # A truncated shard and a damaged manifest of the corpus the run built.
  shard=$(ls "$run"/corpus/train-*.u16 | head -1)
  head -c 100 "pristine/corpus/$(basename "$shard")" >"$shard"
  recipe second runs 10
  sed -i "s|^train = .*|corpus = \"$work/$run/corpus\"|" second.toml
  expect_error "$(basename "$shard")" pretrain second.toml
  cp "pristine/corpus/$(basename "$shard")" "$shard"
  echo '{"format": "genolm-corpus", "format_version": 1, "vocab_size": 71, "splits": 3}' \
    >"$run/corpus/corpus.json"
  expect_error "corpus.json" pretrain second.toml
  cp pristine/corpus/corpus.json "$run/corpus/"
  # Everything restored, the run resumes and finishes.
  pretrain run.toml --resume --set train.max_steps=20
  ;;
concurrent_resume)
  recipe run runs 10
  pretrain run.toml
  pretrain run.toml --resume --set train.max_steps=400 2>first.txt &
  first=$!
  for _ in $(seq 200); do [ -s runs/run/.lock ] && break; sleep 0.05; done
  sleep 0.5
  expect_error "in use by another" pretrain run.toml --resume --set train.max_steps=400
  wait $first || fail "the first resume failed: $(cat first.txt)"
  python3 - runs/run <<'PY' || fail "run.json and metrics.jsonl disagree"
import json, sys
run = json.load(open(sys.argv[1] + "/run.json"))
rows = [json.loads(l) for l in open(sys.argv[1] + "/metrics.jsonl") if l.strip()]
steps = [r["step"] for r in rows if r.get("split") == "train"]
assert steps == sorted(set(steps)), "train steps repeat or go back"
assert run["status"] == "finished" and max(steps) == 400, (run["status"], max(steps))
PY
  ;;
sigkill)
  # Killed at several points (start-up, corpus, early and late training), each time resumed (or
  # restarted, when it died before saving a checkpoint): the losses equal an uninterrupted run's.
  recipe reference runs 60
  pretrain reference.toml
  train_losses runs/reference/metrics.jsonl >reference.txt
  for delay in 0.2 0.6 1.2 2.5; do
    rm -rf runs/killed
    recipe killed runs 60
    "$genolm" --threads 1 --log-level warn pretrain --config killed.toml &
    pid=$!  # genolm itself (a shell function would put a subshell between)
    sleep "$delay"
    kill -9 $pid 2>/dev/null || true
    wait $pid 2>/dev/null || true
    if ls runs/killed/checkpoints/step-*.safetensors >/dev/null 2>&1; then
      how="resumed from $(ls runs/killed/checkpoints | tail -1)"
      pretrain killed.toml --resume
    else
      how="started over (no checkpoint yet)"
      pretrain killed.toml  # nothing trained yet: the folder is replaced
    fi
    train_losses runs/killed/metrics.jsonl >killed.txt
    cmp -s reference.txt killed.txt || { diff reference.txt killed.txt | head; fail "killed after ${delay} s: the losses differ from the uninterrupted run's"; }
    echo "  killed after ${delay} s, $how: the same losses as the uninterrupted run"
  done
  ;;
*)
  fail "unknown scenario (expected full_disk, read_only, damaged_files, concurrent_resume or sigkill)"
  ;;
esac
echo "fault battery: $scenario passed"
