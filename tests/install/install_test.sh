#!/usr/bin/env bash
# cmake --install into a temporary prefix, then, from outside the source tree: the installed
# genolm hands training commands to the installed genolm-train, a genolm copied elsewhere still
# finds one, SentencePiece tokenizers load, shipped recipes are found by name, and the man page,
# the bash completion and the Python loader are in place.
#   tests/install/install_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
fail() {
  echo "install test: $*" >&2
  exit 1
}

cmake --install "$build" --prefix "$prefix" >"$prefix/install.log" || fail "cmake --install failed: $(tail -5 "$prefix/install.log")"
cd "$prefix"

[[ $(bin/genolm --version) == "genolm "* ]] || fail "bin/genolm --version"
[[ $(bin/genolm predict --help) == *--precision* ]] || fail "installed genolm cannot run genolm-train"
[ -f lib/genolm/libgenolm_spm.so ] || fail "no SentencePiece bridge in lib/genolm"

mkdir copied
cp bin/genolm copied/
[[ $(PATH=/usr/bin:/bin copied/genolm embed --help) == *--pool* ]] || fail "a copied genolm cannot run genolm-train"

printf '>a\n%s\n' "$(tr -dc ACGT </dev/urandom | head -c 20000)" >g.fa
bin/genolm --log-level warn tokenizer train --kind bpe --vocab-size 32 --piece-bases 256 \
  --input g.fa --out bpe || fail "installed genolm cannot train a SentencePiece tokenizer"
[ -f bpe/sentencepiece.model ] || fail "no sentencepiece.model"

dumped=$(bin/genolm finetune --config finetune/splice --dump-config)
grep -q "^train = \"$prefix/share/genolm/configs/quickstart/splice_statlog/train.tsv\"" <<<"$dumped" ||
  fail "shipped recipe not found by name, or its paths not resolved against its folder"
[ -f share/genolm/models/antibody_small_lm/language_model.safetensors ] || fail "no shipped model"

grep -q 'genolm predict' share/man/man1/genolm.1 || fail "man page missing or without the commands"
[ -f share/genolm/python/genolm_export.py ] || fail "no Python loader"

# shellcheck disable=SC1091
source share/bash-completion/completions/genolm
complete_words() {
  COMP_WORDS=("$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _genolm
  echo "${COMPREPLY[*]}"
}
[ "$(complete_words genolm pre)" = "pretrain predict" ] || fail "completion of 'pre': $(complete_words genolm pre)"
[ "$(complete_words genolm predict --prec)" = "--precision" ] || fail "completion of --prec"
[ "$(complete_words genolm predict --precision "")" = "auto fp32 bf16" ] || fail "completion of precisions"
[ "$(complete_words genolm tokenizer train --ki)" = "--kind" ] || fail "completion of tokenizer train's options"
echo "install test: passed ($prefix)"
