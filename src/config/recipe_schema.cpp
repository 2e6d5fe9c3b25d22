// The one list of recipe keys and their defaults. Adding a key here makes it valid in the recipes
// of the commands that read it, settable with --set, and printed by their --dump-config. Keys of a
// section stay together: the dump prints a section header whenever the section changes.
#include "config/recipe.h"

#include <algorithm>

#include "genolm/tokenizers/tokenizer.h"

namespace genolm::config {

using Strings = std::vector<std::string>;
using I = std::int64_t;

// Who reads a key. A key set for a command outside its set is an error (Recipe::check_read_by);
// resumable(...) marks the keys a resumed run may change.
constexpr Commands kCorpus = Command::corpus;
constexpr Commands kPretrain = Command::pretrain;
constexpr Commands kFinetune = Command::finetune;

// clang-format off
const std::vector<KeySpec>& recipe_schema() {
  static const std::vector<KeySpec> schema = {
    // [run]
    {"run.name", ValueKind::string, std::string(), kPretrain | kFinetune, "run folder name under run.dir; empty: the recipe file's name"},
    {"run.seed", ValueKind::integer, I{42}, kCorpus | kPretrain | kFinetune, "seed for every random choice", {}, 0},
    {"run.dir", ValueKind::string, std::string("runs"), kPretrain | kFinetune, "folder that holds run folders"},

    // [data]
    {"data.train", ValueKind::string_list, Strings{}, kCorpus | kPretrain, "FASTA/FASTQ files and CSV/TSV tables (.csv, .tsv, .tab; each plain or gzip) to build the token corpus from"},
    {"data.sequence_columns", ValueKind::string_list, Strings{"sequence"}, kCorpus | kPretrain, "the sequence column of the tables in data.train, or two (paired chains, joined by <sep>); their other columns are not read"},
    {"data.corpus", ValueKind::string, std::string(), kPretrain, "a prebuilt corpus folder ('genolm corpus') used instead of data.train"},
    {"data.valid_fraction", ValueKind::number, 0.01, kCorpus | kPretrain, "share of the bases held out for validation, as whole records or contiguous blocks", {}, 0.0, 0.5},
    {"data.valid_block_bases", ValueKind::integer, I{10000}, kCorpus | kPretrain, "length of the contiguous blocks a long record is split into for the valid split", {}, 100},
    {"data.soft_mask", ValueKind::string, std::string("upper"), kCorpus | kPretrain, "lowercase (soft-masked) bases: 'upper' upper-cases them, 'keep' keeps them", {"upper", "keep"}},
    {"data.n_run_split", ValueKind::integer, I{50}, kCorpus | kPretrain, "split records at runs of at least this many N and drop the run; 0 keeps every N (as <unk>)", {}, 0},
    {"data.reverse_complement", ValueKind::boolean, false, kCorpus | kPretrain, "add the reverse complement of every piece to the corpus: train on both strands (DNA)"},
    {"data.backward", ValueKind::boolean, false, kPretrain, "read the corpus backwards: a backward language model for forward+backward ensembles"},

    // [tokenizer]
    {"tokenizer.path", ValueKind::string, std::string(), kCorpus | kPretrain | kFinetune, "an existing tokenizer folder; when empty one is made from the keys below"},
    {"tokenizer.kind", ValueKind::string, std::string("kmer"), kCorpus | kPretrain | kFinetune, "tokenizer kind", {"kmer", "nucleotide", "protein", "bpe", "unigram"}},
    {"tokenizer.k", ValueKind::integer, I{3}, kCorpus | kPretrain | kFinetune, "k-mer length (kmer)", {}, 1, 8},
    {"tokenizer.stride", ValueKind::integer, I{1}, kCorpus | kPretrain | kFinetune, "k-mer stride, 1 to k (kmer)", {}, 1, 8},
    {"tokenizer.vocab_size", ValueKind::integer, I{4096}, kCorpus | kPretrain | kFinetune, "vocabulary size with specials (bpe, unigram)", {}, 16, tokenizers::kMaxVocabularySize},
    {"tokenizer.piece_bases", ValueKind::integer, I{2048}, kCorpus | kPretrain, "sequences are cut into pieces this long for SentencePiece (bpe, unigram)", {}, 16, 65536},
    {"tokenizer.train_bases", ValueKind::integer, I{8000000}, kCorpus | kPretrain, "bases SentencePiece samples for training at most (bpe, unigram)", {}, 1000},

    // [init] (pretrain: ULMFiT's stage 2)
    {"init.from", ValueKind::string, std::string(), kCorpus | kPretrain, "a pretraining run folder whose whole language model (architecture, dropouts, weights, tokenizer) this run continues from; empty: random weights"},

    // [model]
    {"model.arch", ValueKind::string, std::string("awd_lstm"), kPretrain | kFinetune, "encoder architecture", {"awd_lstm", "transformer"}},
    {"model.emb_size", ValueKind::integer, I{400}, kPretrain | kFinetune, "embedding size (the transformer's width)", {}, 1},
    {"model.hidden_size", ValueKind::integer, I{1152}, kPretrain | kFinetune, "LSTM hidden size, or transformer feed-forward size", {}, 1},
    {"model.layers", ValueKind::integer, I{3}, kPretrain | kFinetune, "number of layers", {}, 1},
    {"model.drop_mult", ValueKind::number, 1.0, kPretrain | kFinetune, "multiplier on every dropout", {}, 0.0},
    {"model.heads", ValueKind::integer, I{8}, kPretrain | kFinetune, "attention heads (transformer)", {}, 1},
    {"model.context", ValueKind::integer, I{512}, kPretrain | kFinetune, "context length in tokens (transformer)", {}, 1},
    {"model.positions", ValueKind::string, std::string("rotary"), kPretrain | kFinetune, "position encoding (transformer)", {"rotary", "learned"}},

    // [train]
    {"train.batch_size", ValueKind::integer, I{64}, kPretrain | kFinetune, "sequences per batch", {}, 1},
    {"train.bptt", ValueKind::integer, I{70}, kPretrain | kFinetune, "truncated-BPTT length (awd_lstm); fine-tuning: the chunk an LSTM reads at a time", {}, 1},
    {"train.random_bptt", ValueKind::boolean, true, kPretrain, "fastai's randomised BPTT length: mostly bptt, sometimes bptt/2, jittered (awd_lstm)"},
    {"train.windows", ValueKind::string, std::string("sequential"), kPretrain, "how the transformer reads the corpus: 'sequential' or 'random' windows of model.context", {"sequential", "random"}},
    {"train.lr", ValueKind::number, 2e-3, kPretrain, "peak learning rate (fine-tuning's are finetune.stage_lrs)", {}, 0.0},
    {"train.epochs", ValueKind::integer, I{1}, resumable(kPretrain), "passes over the training data", {}, 0},
    {"train.max_steps", ValueKind::integer, I{0}, resumable(kPretrain), "stop after this many optimizer steps; 0: train.epochs decides", {}, 0},
    {"train.precision", ValueKind::string, std::string("fp32"), kPretrain | kFinetune, "arithmetic precision", {"fp32", "bf16"}},
    {"train.device", ValueKind::string, std::string("auto"), kPretrain | kFinetune, "where to compute: auto (one GPU per local rank when CUDA is available, else the CPU), cpu or cuda", {"auto", "cpu", "cuda"}},
    {"train.schedule", ValueKind::string, std::string("one_cycle"), kPretrain, "learning-rate schedule", {"one_cycle", "slanted_triangular", "warmup_cosine", "constant"}},
    {"train.warmup", ValueKind::number, 0.05, kPretrain, "share of the steps spent warming up (warmup_cosine)", {}, 0.0, 1.0},
    {"train.weight_decay", ValueKind::number, 0.01, kPretrain | kFinetune, "AdamW's decoupled weight decay", {}, 0.0},
    {"train.grad_clip", ValueKind::number, 0.25, kPretrain, "clip the gradient norm to this; 0: no clipping (fine-tuning's is finetune.grad_clip)", {}, 0.0},
    {"train.accumulate", ValueKind::integer, I{1}, kPretrain, "micro-batches whose gradients add up to one optimizer step", {}, 1},
    {"train.ar_alpha", ValueKind::number, 2.0, kPretrain, "activation regularisation (awd_lstm)", {}, 0.0},
    {"train.tar_beta", ValueKind::number, 1.0, kPretrain, "temporal activation regularisation (awd_lstm)", {}, 0.0},
    {"train.log_every", ValueKind::integer, I{50}, resumable(kPretrain | kFinetune), "steps between train log lines", {}, 1},
    {"train.eval_every", ValueKind::integer, I{1000}, resumable(kPretrain), "steps between evaluations", {}, 1},
    {"train.eval_tokens", ValueKind::integer, I{2000000}, kPretrain, "at most this many valid tokens per evaluation; 0: the whole valid split", {}, 0},
    {"train.checkpoint_every", ValueKind::integer, I{1000}, resumable(kPretrain | kFinetune), "steps between checkpoints", {}, 1},
    {"train.keep_checkpoints", ValueKind::integer, I{3}, resumable(kPretrain | kFinetune), "how many of the latest checkpoints to keep", {}, 1},

    // [dist] (data-parallel training: genolm launch, torchrun or srun)
    {"dist.backend", ValueKind::string, std::string("auto"), resumable(kPretrain | kFinetune), "collective backend: auto (nccl on CUDA, else gloo), gloo or nccl", {"auto", "gloo", "nccl"}},
    {"dist.timeout", ValueKind::integer, I{300}, resumable(kPretrain | kFinetune), "seconds a rank waits for the others before it gives up with an error naming itself", {}, 1},
    {"dist.bucket_mb", ValueKind::number, 25.0, kPretrain | kFinetune, "gradient all-reduce bucket size in MB (DDP's default 25)", {}, 0.01},

    // [task] (finetune)
    {"task.kind", ValueKind::string, std::string("classification"), kFinetune, "what the head predicts (multilabel: one 0/1 column per label, a sigmoid each)", {"classification", "regression", "multilabel"}},
    {"task.train", ValueKind::string, std::string(), kFinetune, "labelled training file: CSV, TSV (plain or gzip) or FASTA with label=... in the headers"},
    {"task.valid", ValueKind::string, std::string(), kFinetune, "labelled validation file; empty: task.valid_fraction of task.train, stratified"},
    {"task.test", ValueKind::string, std::string(), kFinetune, "labelled test file; empty: task.test_fraction of task.train, stratified"},
    {"task.valid_fraction", ValueKind::number, 0.1, kFinetune, "share of task.train held out for validation when task.valid is empty", {}, 0.0, 0.9},
    {"task.test_fraction", ValueKind::number, 0.1, kFinetune, "share of task.train held out for testing when task.test is empty; 0: no test", {}, 0.0, 0.9},
    {"task.cv_folds", ValueKind::integer, I{0}, kFinetune, "k-fold cross-validation: K >= 2 fine-tunes K times, each fold of task.train (stratified by class) the test split once (task.test must be empty; task.test_fraction is not used); 0 or 1: off", {}, 0},
    {"task.fold_column", ValueKind::string, std::string(), kFinetune, "cross-validation folds from this column of task.train (or FASTA header key): one fold per distinct value; empty: stratified folds (task.cv_folds)"},
    {"task.sequence_columns", ValueKind::string_list, Strings{"sequence"}, kFinetune, "sequence column, or two (paired chains such as heavy and light, joined by <sep>)"},
    {"task.label_columns", ValueKind::string_list, Strings{"label"}, kFinetune, "label column (classification), or one or more target columns (regression), or one 0/1 (or true/false) column per label (multilabel)"},
    {"task.id_column", ValueKind::string, std::string("id"), kFinetune, "record id column; without it ids are row numbers"},
    {"task.classes", ValueKind::string_list, Strings{}, kFinetune, "class names in order (the last is the positive class of a binary task); empty: sorted from task.train"},
    {"task.class_weights", ValueKind::string, std::string("none"), kFinetune, "cross-entropy class weights: 'balanced' weighs classes by inverse frequency (multilabel: each label's positives by negatives / positives in train)", {"none", "balanced"}},
    {"task.loss", ValueKind::string, std::string("mse"), kFinetune, "regression loss", {"mse", "huber"}},
    {"task.output_range", ValueKind::number_list, std::vector<double>{}, kFinetune, "regression: [low, high] squashes outputs into the range (fastai's y_range); empty: none"},
    {"task.normalize_targets", ValueKind::boolean, true, kFinetune, "regression: train on standardised targets (train mean and deviation); ignored with task.output_range"},
    {"task.metric", ValueKind::string, std::string("auto"), kFinetune, "metric that picks the best epoch; auto: accuracy (classification), r2 (regression) or auroc (multilabel: macro over labels)",
     {"auto", "accuracy", "balanced_accuracy", "mcc", "macro_f1", "auroc", "auprc", "loss", "rmse", "mae", "pearson", "spearman", "r2"}},
    {"task.max_len", ValueKind::integer, I{1440}, kFinetune, "gradients flow through the last this many tokens of a sequence (fastai's max_len)", {}, 1},
    {"task.rc_augment", ValueKind::boolean, false, kFinetune, "DNA: train on a random strand of every example each epoch"},
    {"task.rc_average", ValueKind::boolean, false, kFinetune, "DNA: average predictions over both strands when evaluating and predicting"},

    // [encoder] (finetune)
    {"encoder.from", ValueKind::string, std::string(), kFinetune, "pretraining run folder whose encoder and tokenizer are fine-tuned; empty: train from scratch"},
    {"encoder.backward", ValueKind::boolean, false, kFinetune, "read sequences backwards (the second model of a forward+backward ensemble); with encoder.from the pretrained run's direction is used, and this key must agree with it"},

    // [head] (finetune)
    {"head.pooling", ValueKind::string, std::string("auto"), kFinetune, "how the head reads the encoder's states: 'positions' (every position side by side: aligned inputs), 'concat' (fastai's last+max+mean: any length); auto: positions when every training sequence has the same token length", {"auto", "positions", "concat"}},
    {"head.position_features", ValueKind::integer, I{16}, kFinetune, "positions: each position's state is first projected to this many features; 0: the whole state", {}, 0},
    {"head.hidden_size", ValueKind::integer, I{50}, kFinetune, "width of the pooling head's hidden layers", {}, 1},
    {"head.hidden_layers", ValueKind::integer, I{1}, kFinetune, "hidden layers between pooled features and output", {}, 0},
    {"head.dropout", ValueKind::number, 0.1, kFinetune, "dropout before each hidden-to-output linear layer (the first block uses the encoder's output dropout)", {}, 0.0, 0.95},

    // [finetune]
    {"finetune.stage_epochs", ValueKind::number_list, std::vector<double>{1, 1, 1, 8}, kFinetune, "epochs of each stage; stage i trains the head and the top i layer groups, the last stage everything", {}, 1},
    {"finetune.stage_lrs", ValueKind::number_list, std::vector<double>{2e-2, 1e-2, 5e-3, 5e-3}, kFinetune, "peak learning rate of each stage's top group (one-cycle per stage)", {}, 0.0},
    {"finetune.lr_div", ValueKind::number, 2.6, kFinetune, "discriminative learning rates: each lower group trains at the rate of the one above divided by this", {}, 1.0},
    {"finetune.gradual_unfreezing", ValueKind::boolean, true, kFinetune, "freeze the pretrained encoder below the stage's groups (a randomly initialised encoder is never frozen)"},
    {"finetune.grad_clip", ValueKind::number, 0.0, kFinetune, "clip the gradient norm to this; 0: no clipping (fastai's classifier does not clip)", {}, 0.0},
    {"finetune.moms", ValueKind::number_list, std::vector<double>{0.8, 0.7}, kFinetune, "AdamW's beta1 at the ends and at the peak of each stage's one-cycle (fastai's classifier: 0.8, 0.7)", {}, 0.0, 0.999},
    {"finetune.patience", ValueKind::integer, I{0}, kFinetune, "early stopping: stop after this many epochs in which neither the valid metric nor the valid loss improved; 0: never", {}, 0},
  };
  return schema;
}
// clang-format on

bool names_input_path(std::string_view key) {
  // run.dir is not among them: runs are written where the user works, like any tool's output.
  static constexpr std::string_view kPathKeys[] = {"data.train", "data.corpus", "tokenizer.path",
                                                   "init.from",  "task.train",  "task.valid",
                                                   "task.test",  "encoder.from"};
  return std::find(std::begin(kPathKeys), std::end(kPathKeys), key) != std::end(kPathKeys);
}

Commands also_accepted_in_files(Command command) {
  return command == Command::corpus ? kPretrain : Commands();
}

std::string_view unread_key_hint(std::string_view key, Command command) {
  const auto in = [key](std::string_view section) {
    return key.substr(0, key.find('.')) == section;
  };
  switch (command) {
    case Command::corpus:
      if (key == "data.corpus") return "'genolm corpus' writes its corpus to --out";
      if (key == "data.backward")
        return "the corpus is the same either way: pretraining reads it backwards";
      return "a corpus is made from [data] and [tokenizer] (and run.seed)";
    case Command::pretrain:
      if (key == "encoder.from") {
        return "pretraining starts from random weights, or from a run's language model with "
               "init.from; encoder.from is fine-tuning's";
      }
      if (in("task")) return "labelled tables are fine-tuning's; pretraining reads data.train";
      if (in("head") || in("finetune")) return "heads and stages are fine-tuning's";
      return "";
    case Command::finetune:
      if (key == "train.lr") return "fine-tuning's learning rates are finetune.stage_lrs";
      if (key == "init.from") return "fine-tuning starts from a pretraining run with encoder.from";
      if (key == "train.grad_clip") return "fine-tuning's clipping is finetune.grad_clip";
      if (key == "train.epochs" || key == "train.max_steps") {
        return "fine-tuning trains for finetune.stage_epochs";
      }
      if (key == "train.schedule" || key == "train.warmup") {
        return "each fine-tuning stage is one cycle peaking at its finetune.stage_lrs";
      }
      if (key == "train.eval_every" || key == "train.eval_tokens") {
        return "fine-tuning evaluates the whole valid split after every epoch";
      }
      if (key == "tokenizer.piece_bases" || key == "tokenizer.train_bases") {
        return "fine-tuning trains no SentencePiece tokenizer: name one with tokenizer.path";
      }
      if (in("data")) {
        return "fine-tuning reads labelled tables: task.train, task.valid and task.test";
      }
      return "";
  }
  return "";
}

}  // namespace genolm::config
