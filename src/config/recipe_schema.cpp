// The one list of recipe keys. Adding a key here makes it valid in every recipe, settable with
// --set, and printed by --dump-config. Keys of a section stay together: the dump prints a section
// header whenever the section changes.
#include "config/recipe.h"

namespace genolm::config {

using Strings = std::vector<std::string>;
using I = std::int64_t;

// clang-format off
const std::vector<KeySpec>& recipe_schema() {
  static const std::vector<KeySpec> schema = {
    // [run]
    {"run.name", ValueKind::string, std::string(), "run folder name under run.dir; empty: the recipe file's name"},
    {"run.seed", ValueKind::integer, I{42}, "seed for every random choice", {}, 0},
    {"run.dir", ValueKind::string, std::string("runs"), "folder that holds run folders"},

    // [data]
    {"data.train", ValueKind::string_list, Strings{}, "FASTA/FASTQ files (plain or gzip) to build the token corpus from"},
    {"data.corpus", ValueKind::string, std::string(), "a prebuilt corpus folder ('genolm corpus') used instead of data.train"},
    {"data.valid_fraction", ValueKind::number, 0.01, "share of the bases held out for validation, as whole records or contiguous blocks", {}, 0.0, 0.5},
    {"data.valid_block_bases", ValueKind::integer, I{10000}, "length of the contiguous blocks a long record is split into for the valid split", {}, 100},
    {"data.soft_mask", ValueKind::string, std::string("upper"), "lowercase (soft-masked) bases: 'upper' upper-cases them, 'keep' keeps them", {"upper", "keep"}},
    {"data.n_run_split", ValueKind::integer, I{50}, "split records at runs of at least this many N and drop the run; 0 keeps every N (as <unk>)", {}, 0},
    {"data.reverse_complement", ValueKind::boolean, false, "add the reverse complement of every piece to the corpus: train on both strands (DNA)"},
    {"data.backward", ValueKind::boolean, false, "read the corpus backwards: a backward language model for forward+backward ensembles"},

    // [tokenizer]
    {"tokenizer.path", ValueKind::string, std::string(), "an existing tokenizer folder; when empty one is made from the keys below"},
    {"tokenizer.kind", ValueKind::string, std::string("kmer"), "tokenizer kind", {"kmer", "nucleotide", "protein", "bpe", "unigram"}},
    {"tokenizer.k", ValueKind::integer, I{3}, "k-mer length (kmer)", {}, 1, 8},
    {"tokenizer.stride", ValueKind::integer, I{1}, "k-mer stride, 1 to k (kmer)", {}, 1, 8},
    {"tokenizer.vocab_size", ValueKind::integer, I{4096}, "vocabulary size with specials (bpe, unigram)", {}, 16, 1 << 20},
    {"tokenizer.piece_bases", ValueKind::integer, I{2048}, "sequences are cut into pieces this long for SentencePiece (bpe, unigram)", {}, 16, 65536},
    {"tokenizer.train_bases", ValueKind::integer, I{8000000}, "bases SentencePiece samples for training at most (bpe, unigram)", {}, 1000},

    // [model]
    {"model.arch", ValueKind::string, std::string("awd_lstm"), "encoder architecture", {"awd_lstm", "transformer"}},
    {"model.emb_size", ValueKind::integer, I{400}, "embedding size (the transformer's width)", {}, 1},
    {"model.hidden_size", ValueKind::integer, I{1152}, "LSTM hidden size, or transformer feed-forward size", {}, 1},
    {"model.layers", ValueKind::integer, I{3}, "number of layers", {}, 1},
    {"model.drop_mult", ValueKind::number, 1.0, "multiplier on every dropout", {}, 0.0},
    {"model.heads", ValueKind::integer, I{8}, "attention heads (transformer)", {}, 1},
    {"model.context", ValueKind::integer, I{512}, "context length in tokens (transformer)", {}, 1},
    {"model.positions", ValueKind::string, std::string("rotary"), "position encoding (transformer)", {"rotary", "learned"}},

    // [train]
    {"train.batch_size", ValueKind::integer, I{64}, "sequences per batch", {}, 1},
    {"train.bptt", ValueKind::integer, I{70}, "truncated-BPTT length (awd_lstm)", {}, 1},
    {"train.random_bptt", ValueKind::boolean, true, "fastai's randomised BPTT length: mostly bptt, sometimes bptt/2, jittered (awd_lstm)"},
    {"train.windows", ValueKind::string, std::string("sequential"), "how the transformer reads the corpus: 'sequential' or 'random' windows of model.context", {"sequential", "random"}},
    {"train.lr", ValueKind::number, 2e-3, "peak learning rate", {}, 0.0},
    {"train.epochs", ValueKind::integer, I{1}, "passes over the training data", {}, 0},
    {"train.max_steps", ValueKind::integer, I{0}, "stop after this many optimizer steps; 0: train.epochs decides", {}, 0},
    {"train.precision", ValueKind::string, std::string("fp32"), "arithmetic precision", {"fp32", "bf16"}},
    {"train.device", ValueKind::string, std::string("auto"), "where to compute: auto (one GPU per local rank when CUDA is available, else the CPU), cpu or cuda", {"auto", "cpu", "cuda"}},
    {"train.schedule", ValueKind::string, std::string("one_cycle"), "learning-rate schedule", {"one_cycle", "slanted_triangular", "warmup_cosine", "constant"}},
    {"train.warmup", ValueKind::number, 0.05, "share of the steps spent warming up (warmup_cosine)", {}, 0.0, 1.0},
    {"train.weight_decay", ValueKind::number, 0.01, "AdamW's decoupled weight decay", {}, 0.0},
    {"train.grad_clip", ValueKind::number, 0.25, "clip the gradient norm to this; 0: no clipping", {}, 0.0},
    {"train.accumulate", ValueKind::integer, I{1}, "micro-batches whose gradients add up to one optimizer step", {}, 1},
    {"train.ar_alpha", ValueKind::number, 2.0, "activation regularisation (awd_lstm)", {}, 0.0},
    {"train.tar_beta", ValueKind::number, 1.0, "temporal activation regularisation (awd_lstm)", {}, 0.0},
    {"train.log_every", ValueKind::integer, I{50}, "steps between train log lines", {}, 1},
    {"train.eval_every", ValueKind::integer, I{1000}, "steps between evaluations", {}, 1},
    {"train.eval_tokens", ValueKind::integer, I{2000000}, "at most this many valid tokens per evaluation; 0: the whole valid split", {}, 0},
    {"train.checkpoint_every", ValueKind::integer, I{1000}, "steps between checkpoints", {}, 1},
    {"train.keep_checkpoints", ValueKind::integer, I{3}, "how many of the latest checkpoints to keep", {}, 1},

    // [dist] (data-parallel training: genolm launch, torchrun or srun)
    {"dist.backend", ValueKind::string, std::string("auto"), "collective backend: auto (nccl on CUDA, else gloo), gloo or nccl", {"auto", "gloo", "nccl"}},
    {"dist.timeout", ValueKind::integer, I{300}, "seconds a rank waits for the others before it gives up with an error naming itself", {}, 1},
    {"dist.bucket_mb", ValueKind::number, 25.0, "gradient all-reduce bucket size in MB (DDP's default 25)", {}, 0.01},

    // [task] (finetune)
    {"task.kind", ValueKind::string, std::string("classification"), "what the head predicts", {"classification", "regression"}},
    {"task.train", ValueKind::string, std::string(), "labelled training file: CSV, TSV (plain or gzip) or FASTA with label=... in the headers"},
    {"task.valid", ValueKind::string, std::string(), "labelled validation file; empty: task.valid_fraction of task.train, stratified"},
    {"task.test", ValueKind::string, std::string(), "labelled test file; empty: task.test_fraction of task.train, stratified"},
    {"task.valid_fraction", ValueKind::number, 0.1, "share of task.train held out for validation when task.valid is empty", {}, 0.0, 0.9},
    {"task.test_fraction", ValueKind::number, 0.1, "share of task.train held out for testing when task.test is empty; 0: no test", {}, 0.0, 0.9},
    {"task.sequence_columns", ValueKind::string_list, Strings{"sequence"}, "sequence column, or two (paired chains such as heavy and light, joined by <sep>)"},
    {"task.label_columns", ValueKind::string_list, Strings{"label"}, "label column (classification), or one or more target columns (regression)"},
    {"task.id_column", ValueKind::string, std::string("id"), "record id column; without it ids are row numbers"},
    {"task.classes", ValueKind::string_list, Strings{}, "class names in order (the last is the positive class of a binary task); empty: sorted from task.train"},
    {"task.class_weights", ValueKind::string, std::string("none"), "cross-entropy class weights: 'balanced' weighs classes by inverse frequency", {"none", "balanced"}},
    {"task.loss", ValueKind::string, std::string("mse"), "regression loss", {"mse", "huber"}},
    {"task.output_range", ValueKind::number_list, std::vector<double>{}, "regression: [low, high] squashes outputs into the range (fastai's y_range); empty: none"},
    {"task.normalize_targets", ValueKind::boolean, true, "regression: train on standardised targets (train mean and deviation); ignored with task.output_range"},
    {"task.metric", ValueKind::string, std::string("auto"), "metric that picks the best epoch; auto: accuracy (classification) or r2 (regression)",
     {"auto", "accuracy", "balanced_accuracy", "mcc", "macro_f1", "auroc", "auprc", "loss", "rmse", "mae", "pearson", "spearman", "r2"}},
    {"task.max_len", ValueKind::integer, I{1440}, "gradients flow through the last this many tokens of a sequence (fastai's max_len)", {}, 1},
    {"task.rc_augment", ValueKind::boolean, false, "DNA: train on a random strand of every example each epoch"},
    {"task.rc_average", ValueKind::boolean, false, "DNA: average predictions over both strands when evaluating and predicting"},

    // [encoder] (finetune)
    {"encoder.from", ValueKind::string, std::string(), "pretraining run folder whose encoder and tokenizer are fine-tuned; empty: train from scratch"},

    // [head] (finetune)
    {"head.hidden_size", ValueKind::integer, I{50}, "width of the pooling head's hidden layers", {}, 1},
    {"head.hidden_layers", ValueKind::integer, I{1}, "hidden layers between pooled features and output", {}, 0},
    {"head.dropout", ValueKind::number, 0.1, "dropout before each hidden-to-output linear layer (the first block uses the encoder's output dropout)", {}, 0.0, 0.95},

    // [finetune]
    {"finetune.stage_epochs", ValueKind::number_list, std::vector<double>{1, 1, 1, 2}, "epochs of each stage; stage i trains the head and the top i layer groups, the last stage everything", {}, 1},
    {"finetune.stage_lrs", ValueKind::number_list, std::vector<double>{2e-2, 1e-2, 5e-3, 1e-3}, "peak learning rate of each stage's top group (one-cycle per stage)", {}, 0.0},
    {"finetune.lr_div", ValueKind::number, 2.6, "discriminative learning rates: each lower group trains at the rate of the one above divided by this", {}, 1.0},
    {"finetune.gradual_unfreezing", ValueKind::boolean, true, "freeze the pretrained encoder below the stage's groups (a randomly initialised encoder is never frozen)"},
    {"finetune.patience", ValueKind::integer, I{0}, "early stopping: stop after this many epochs without a better valid metric; 0: never", {}, 0},
  };
  return schema;
}
// clang-format on

}  // namespace genolm::config
