#!/usr/bin/python3
"""The PyTorch-Python twin of genolm's language-model training step, for throughput comparisons.

It trains the same two models genolm's C++ trainer implements, on a genolm token corpus, with the
same optimizer settings, and reports training tokens per second as one JSON line on stdout:

  * an AWD-LSTM language model with fastai's semantics (embedding dropout, locked dropouts,
    DropConnect on the hidden-to-hidden weights, tied decoder, stateful hidden state, AR/TAR);
  * a pre-norm causal transformer decoder with learned or rotary positions.

fastai is not needed (nor available here): the few pieces of it that matter are reimplemented
below (`embedding_dropout`, `LockedDropout`, `WeightDropLSTM`, `LMStreams`).

Run it with Debian's interpreter, which carries PyTorch 1.13 (CPU):

  /usr/bin/python3 bench/python_lm_twin.py --corpus DIR --arch awd_lstm --steps 20
  /usr/bin/python3 bench/python_lm_twin.py --self-check

On a GPU (`--device cuda` or `cuda:N`, with an interpreter whose PyTorch has CUDA; the CPU default
is unchanged) the model, the batches and the optimizer state live on the device:
  * batches are copied from pinned memory without blocking, so the host never waits for the GPU
    between steps (a pageable copy would synchronize the stream every step);
  * the AWD-LSTM still calls torch.lstm with its own (DropConnect-ed) weight list, which on CUDA
    is cuDNN's LSTM with the weights re-packed every call, exactly what fastai's WeightDropout
    around nn.LSTM does (fastai silences the "not part of single contiguous chunk" warning too);
  * the transformer's attention is PyTorch's fused F.scaled_dot_product_attention (flash or
    memory-efficient kernels) where the private 1.13 kernel does not exist;
  * bf16 is torch.autocast("cuda", dtype=torch.bfloat16) around forward and loss, for both models.
    PyTorch's autocast casts cuDNN's RNN to float16 whatever the autocast dtype
    (aten/src/ATen/cudnn/AutocastRNN.cpp), so under "bf16" the twin's LSTM layers compute in fp16;
    the JSON line's `lstm_dtype` says what they ran in;
  * the clock is read after torch.cuda.synchronize() at the start and the end of the timed steps;
    per-step times (min/median/max on stderr) come from CUDA events, so the steps are not
    serialised by the measurement. fp32 uses PyTorch's defaults: no TF32 in matmuls, TF32
    allowed in cuDNN (which the LSTM uses); the JSON line records both flags.
"""
import argparse
import json
import math
import os
import re
import sys
import time
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# fastai's `awd_lstm_lm_config` dropouts; every one is multiplied by --drop-mult.
AWD_DROPOUTS = dict(output_p=0.1, hidden_p=0.15, input_p=0.25, embed_p=0.02, weight_p=0.2)
AR_ALPHA = 2.0  # fastai RNNRegularizer defaults for language models
TAR_BETA = 1.0


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Data: a genolm corpus read as fastai's LM loader reads a token array.
# --------------------------------------------------------------------------------------------

class TokenArray:
    """The train split's shards, memory-mapped and seen as one concatenated token array.

    The shards are not concatenated in memory: a corpus can be far larger than RAM, and the
    C++ side maps its shards too, so a slice that crosses a shard boundary is gathered here.
    """

    def __init__(self, corpus_dir, split="train"):
        with open(os.path.join(corpus_dir, "corpus.json")) as handle:
            meta = json.load(handle)
        dtype = {2: np.dtype("<u2"), 4: np.dtype("<u4")}[meta["token_bytes"]]
        self.vocab_size = int(meta["vocab_size"])
        self.shards, self.starts = [], []
        total = 0
        for shard in meta["splits"][split]["shards"]:
            if shard["tokens"] == 0:
                continue
            mapped = np.memmap(os.path.join(corpus_dir, shard["file"]), dtype=dtype, mode="r")
            if len(mapped) != shard["tokens"]:
                raise ValueError(f"{shard['file']}: {len(mapped)} tokens, corpus.json says "
                                 f"{shard['tokens']}")
            self.shards.append(mapped)
            self.starts.append(total)
            total += len(mapped)
        self.n_tokens = total

    def slice(self, start, length):
        """Tokens [start, start+length) as int64 (a copy; torch wants int64 ids)."""
        out = np.empty(length, dtype=np.int64)
        filled = 0
        shard = np.searchsorted(self.starts, start, side="right") - 1
        while filled < length:
            offset = start + filled - self.starts[shard]
            take = min(length - filled, len(self.shards[shard]) - offset)
            out[filled:filled + take] = self.shards[shard][offset:offset + take]
            filled += take
            shard += 1
        return out


class LMStreams:
    """fastai's LMDataLoader order without shuffling: `batch` contiguous parallel streams.

    The array (less its last token, kept as the final target) is cut into `batch` equal parts;
    row b of every batch continues part b where the previous batch stopped, which is what lets a
    stateful RNN carry its hidden state from one batch to the next. fastai would end an epoch
    with one shorter batch; here every batch has exactly `seq` tokens (so every timed step does
    the same work) and the short tail is skipped. At the end of the parts the streams wrap to
    their beginnings and `wrapped` tells the caller to reset any carried state (fastai resets
    at every epoch start).
    """

    def __init__(self, tokens, batch, seq, device=None):
        self.tokens, self.batch, self.seq = tokens, batch, seq
        # None (the CPU) hands out CPU tensors; a CUDA device gets each batch through pinned
        # memory with a non-blocking copy of the whole [batch, seq+1] block.
        self.device = device
        self.part = (tokens.n_tokens - 1) // batch
        self.per_part = self.part // seq
        if self.per_part == 0:
            raise ValueError(f"corpus too small: {tokens.n_tokens} tokens for {batch} streams "
                             f"of {seq}+1 tokens")
        self.index = 0

    def next(self):
        """(inputs, targets, wrapped): two [batch, seq] int64 tensors."""
        wrapped = self.index == self.per_part
        if wrapped:
            self.index = 0
        rows = np.stack([self.tokens.slice(b * self.part + self.index * self.seq, self.seq + 1)
                         for b in range(self.batch)])
        self.index += 1
        rows = torch.from_numpy(rows)
        if self.device is not None:
            rows = rows.pin_memory().to(self.device, non_blocking=True)
        return rows[:, :-1], rows[:, 1:], wrapped


# --------------------------------------------------------------------------------------------
# AWD-LSTM (fastai semantics)
# --------------------------------------------------------------------------------------------

def dropout_mask(like, shape, p):
    """fastai's mask: Bernoulli(1-p) scaled by 1/(1-p), so the expectation is unchanged."""
    return like.new_empty(*shape).bernoulli_(1 - p).div_(1 - p)


def embedding_dropout(weight, p, training):
    """fastai's EmbeddingDropout: drops whole vocabulary rows, i.e. every occurrence of a token
    in the batch loses its embedding at once (a word-level dropout), instead of single units."""
    if not training or p == 0:
        return weight
    return weight * dropout_mask(weight, (weight.size(0), 1), p)


class LockedDropout(nn.Module):
    """fastai's RNNDropout: one mask per sequence and feature, shared by every time step, so the
    recurrent layers see a consistently thinned input rather than fresh noise at each step."""

    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):  # x: [batch, time, features]
        if not self.training or self.p == 0:
            return x
        return x * dropout_mask(x, (x.size(0), 1, x.size(2)), self.p)


class WeightDropLSTM(nn.Module):
    """A one-layer batch-first LSTM with DropConnect on its hidden-to-hidden weight (fastai's
    WeightDropout around nn.LSTM).

    The undropped weight is the parameter; each training forward uses F.dropout(raw, p) as
    weight_hh, so gradients reach only the surviving connections (scaled by 1/(1-p)). Calling
    the fused kernel (torch.lstm, the one nn.LSTM calls) with our own weight list does the same
    as fastai's trick of swapping a plain tensor into nn.LSTM, without mutating a module.
    Parameters and their init (uniform +-1/sqrt(hidden)) are nn.LSTM's.
    """

    def __init__(self, n_in, n_out, weight_p):
        super().__init__()
        self.n_out, self.weight_p = n_out, weight_p
        self.weight_ih = nn.Parameter(torch.empty(4 * n_out, n_in))
        self.weight_hh_raw = nn.Parameter(torch.empty(4 * n_out, n_out))
        self.bias_ih = nn.Parameter(torch.empty(4 * n_out))
        self.bias_hh = nn.Parameter(torch.empty(4 * n_out))
        bound = 1.0 / math.sqrt(n_out)
        for param in self.parameters():
            nn.init.uniform_(param, -bound, bound)
        self.record_weight = False  # --self-check inspects the dropped weight of the last call
        self.last_weight_hh = None

    def forward(self, x, state):
        weight_hh = self.weight_hh_raw
        if self.training and self.weight_p > 0:
            weight_hh = F.dropout(self.weight_hh_raw, p=self.weight_p, training=True)
        if self.record_weight:
            self.last_weight_hh = weight_hh
        h, c = state
        output, h, c = torch.lstm(x, (h, c), [self.weight_ih, weight_hh, self.bias_ih, self.bias_hh],
                                  True, 1, 0.0, self.training, False, True)
        return output, (h, c)


class AWDLSTMLM(nn.Module):
    """fastai's AWD_LSTM encoder plus LinearDecoder with tied weights (SequentialRNN)."""

    def __init__(self, vocab, emb, hidden, n_layers, drop_mult=1.0):
        super().__init__()
        p = {k: v * drop_mult for k, v in AWD_DROPOUTS.items()}
        self.embed_p = p["embed_p"]
        self.encoder = nn.Embedding(vocab, emb)
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        self.input_dp = LockedDropout(p["input_p"])
        self.rnns = nn.ModuleList([
            WeightDropLSTM(emb if i == 0 else hidden, emb if i == n_layers - 1 else hidden,
                           p["weight_p"]) for i in range(n_layers)])
        self.hidden_dps = nn.ModuleList([LockedDropout(p["hidden_p"]) for _ in range(n_layers)])
        self.output_dp = LockedDropout(p["output_p"])
        self.decoder = nn.Linear(emb, vocab)
        self.decoder.weight = self.encoder.weight  # tied: one parameter, counted once
        nn.init.zeros_(self.decoder.bias)
        self.hidden = None

    def reset(self):
        self.hidden = None

    def _zero_state(self, batch):
        weight = self.encoder.weight
        return [(weight.new_zeros(1, batch, rnn.n_out), weight.new_zeros(1, batch, rnn.n_out))
                for rnn in self.rnns]

    def forward(self, ids):
        """Returns (logits, raw_out, dropped_out); the last two feed AR and TAR."""
        if self.hidden is None or self.hidden[0][0].size(1) != ids.size(0):
            self.hidden = self._zero_state(ids.size(0))
        weight = embedding_dropout(self.encoder.weight, self.embed_p, self.training)
        output = self.input_dp(F.embedding(ids, weight))
        new_hidden = []
        for i, (rnn, hidden_dp) in enumerate(zip(self.rnns, self.hidden_dps)):
            output, state = rnn(output, self.hidden[i])
            new_hidden.append(state)
            if i != len(self.rnns) - 1:
                output = hidden_dp(output)
        # Truncated BPTT: the state crosses batches, the gradient does not.
        self.hidden = [(h.detach(), c.detach()) for h, c in new_hidden]
        raw_out = output
        dropped_out = self.output_dp(raw_out)
        return self.decoder(dropped_out), raw_out, dropped_out


def awd_lstm_loss(model_out, targets):
    """Cross-entropy plus fastai's RNNRegularizer: AR penalizes large (dropped) activations,
    TAR penalizes fast-changing (raw) activations between consecutive time steps. The squares
    are taken in fp32 as fastai does, also under bf16 autocast."""
    logits, raw_out, dropped_out = model_out
    loss = F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), targets.reshape(-1))
    loss = loss + AR_ALPHA * dropped_out.float().pow(2).mean()
    if raw_out.size(1) > 1:
        loss = loss + TAR_BETA * (raw_out[:, 1:] - raw_out[:, :-1]).float().pow(2).mean()
    return loss


# --------------------------------------------------------------------------------------------
# Causal transformer decoder
# --------------------------------------------------------------------------------------------

_SDPA = getattr(F, "_scaled_dot_product_attention", None)  # PyTorch 1.13's (private) kernel
_SDPA_2 = getattr(F, "scaled_dot_product_attention", None)  # PyTorch 2.x's (public) kernel


def causal_attention(q, k, v):
    """softmax(q k^T / sqrt(d) + causal mask) v on [batch, heads, time, head_dim]."""
    if _SDPA is not None:
        return _SDPA(q, k, v, None, 0.0, False, True)[0]
    if _SDPA_2 is not None and q.is_cuda:
        # On a GPU the fused kernels (flash / memory-efficient) are what a PyTorch user gets;
        # the CPU keeps the path it always had, so CPU figures do not move.
        return _SDPA_2(q, k, v, dropout_p=0.0, is_causal=True)
    t = q.size(-2)
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.size(-1))
    future = torch.ones(t, t, dtype=torch.bool, device=q.device).triu(1)
    return scores.masked_fill(future, float("-inf")).softmax(-1) @ v


def rotate_half(x):
    half = x.size(-1) // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Rotary(nn.Module):
    """RoPE, base 10000, pairing dimension j with j + d/2 (the "rotate_half" convention)."""

    def __init__(self, head_dim, context, base=10000.0):
        super().__init__()
        inv_freq = 1.0 / base ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
        angles = torch.outer(torch.arange(context, dtype=torch.float32), inv_freq)
        angles = torch.cat((angles, angles), dim=-1)  # [context, head_dim]
        # Not parameters and not saved: recomputed from the shape, like the C++ side.
        self.register_buffer("cos", angles.cos(), persistent=False)
        self.register_buffer("sin", angles.sin(), persistent=False)

    def forward(self, x):  # x: [batch, heads, time, head_dim]
        t = x.size(-2)
        # Cast the tables to x's dtype so that bf16 q/k stay bf16 under autocast.
        cos, sin = self.cos[:t].to(x.dtype), self.sin[:t].to(x.dtype)
        return x * cos + rotate_half(x) * sin


class Block(nn.Module):
    def __init__(self, d, heads, ff, dropout, rotary):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d, eps=1e-5)
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.proj = nn.Linear(d, d, bias=False)
        self.ln2 = nn.LayerNorm(d, eps=1e-5)
        self.fc1 = nn.Linear(d, ff)
        self.fc2 = nn.Linear(ff, d)
        self.drop = nn.Dropout(dropout)
        self.rotary = rotary

    def attention(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        if self.rotary is not None:
            q, k = self.rotary(q), self.rotary(k)
        out = causal_attention(q, k, v)  # [b, heads, t, head_dim]
        return self.proj(out.transpose(1, 2).reshape(b, t, d))

    def forward(self, x):
        x = x + self.drop(self.attention(self.ln1(x)))
        return x + self.drop(self.fc2(F.gelu(self.fc1(self.ln2(x)))))


class TransformerLM(nn.Module):
    def __init__(self, vocab, d, ff, n_layers, heads, context, positions, drop_mult=1.0):
        super().__init__()
        if d % heads or (d // heads) % 2:
            raise ValueError(f"--emb {d} must split into {heads} heads of even size")
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(context, d) if positions == "learned" else None
        # One rotary table shared by all blocks (it holds no parameters).
        rotary = Rotary(d // heads, context) if positions == "rotary" else None
        self.blocks = nn.ModuleList([Block(d, heads, ff, 0.1 * drop_mult, rotary)
                                     for _ in range(n_layers)])
        self.ln_f = nn.LayerNorm(d, eps=1e-5)
        self.head = nn.Linear(d, vocab)
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, 0.0, 0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)
        self.head.weight = self.tok.weight  # tied

    def reset(self):
        pass  # no state between windows

    def forward(self, ids):
        x = self.tok(ids)
        if self.pos is not None:
            x = x + self.pos.weight[:ids.size(1)]
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


def transformer_loss(logits, targets):
    return F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), targets.reshape(-1))


# --------------------------------------------------------------------------------------------
# Self-check of the regularizers' semantics
# --------------------------------------------------------------------------------------------

def self_check():
    torch.manual_seed(0)
    failures = []

    def check(name, ok):
        log(("ok    " if ok else "FAIL  ") + name)
        if not ok:
            failures.append(name)

    # Embedding dropout: each vocabulary row is either all zero or all scaled by 1/(1-p).
    p = 0.5
    weight = torch.randn(64, 16)
    dropped = embedding_dropout(weight, p, training=True)
    zero_rows = (dropped == 0).all(dim=1)
    kept_rows = torch.isclose(dropped, weight / (1 - p)).all(dim=1)
    check("embedding dropout zeroes whole rows, scales the rest by 1/(1-p)",
          bool((zero_rows | kept_rows).all()) and 0 < int(zero_rows.sum()) < 64)
    check("embedding dropout is off in eval",
          embedding_dropout(weight, p, training=False) is weight)

    # Locked dropout: one mask per (sequence, feature), constant over time.
    locked = LockedDropout(p).train()
    out = locked(torch.ones(8, 50, 32))
    check("locked dropout mask is constant over time", bool((out == out[:, :1]).all()))
    check("locked dropout mask varies over batch and features",
          bool((out[:, 0] != out[0, 0]).any()) and set(out.unique().tolist()) == {0.0, 2.0})

    # DropConnect: the raw hh weight's gradient is zero exactly where the connection was dropped.
    lstm = WeightDropLSTM(6, 10, weight_p=p).train()
    lstm.record_weight = True
    state = (torch.zeros(1, 4, 10), torch.zeros(1, 4, 10))
    output, _ = lstm(torch.randn(4, 7, 6), state)
    output.pow(2).sum().backward()
    dropped_hh = lstm.last_weight_hh
    mask = dropped_hh != 0
    grad = lstm.weight_hh_raw.grad
    check("weight-dropped hh weight = raw * {0, 1/(1-p)}",
          bool(torch.allclose(dropped_hh[mask], lstm.weight_hh_raw.detach()[mask] / (1 - p))))
    check("raw hh weight's gradient is zero where dropped, nonzero where kept",
          bool((grad[~mask] == 0).all()) and bool((grad[mask] != 0).all()))
    lstm.eval()
    lstm(torch.randn(4, 7, 6), state)
    check("no DropConnect in eval", lstm.last_weight_hh is lstm.weight_hh_raw)
    reference = nn.LSTM(6, 10, batch_first=True)
    with torch.no_grad():
        for name in ("weight_ih", "bias_ih", "bias_hh"):
            getattr(reference, name + "_l0").copy_(getattr(lstm, name))
        reference.weight_hh_l0.copy_(lstm.weight_hh_raw)
    x = torch.randn(4, 7, 6)
    state = (torch.randn(1, 4, 10), torch.randn(1, 4, 10))
    ours, (h, c) = lstm(x, state)
    theirs, (h_ref, c_ref) = reference(x, state)
    check("WeightDropLSTM without dropout equals nn.LSTM",
          all(torch.allclose(a, b, atol=1e-6) for a, b in ((ours, theirs), (h, h_ref), (c, c_ref))))

    # The AWD-LSTM carries its state across batches and forgets it on reset().
    model = AWDLSTMLM(20, 8, 12, 3).eval()
    ids = torch.randint(0, 20, (2, 5))
    first = model(ids)[0]
    second = model(ids)[0]
    model.reset()
    again = model(ids)[0]
    check("AWD-LSTM state carries over batches; reset() clears it",
          not torch.allclose(first, second) and torch.allclose(first, again))
    check("AWD-LSTM decoder is tied to the embedding",
          model.decoder.weight is model.encoder.weight)

    # Transformer: causal (a later token never changes earlier logits), both attention paths
    # agree, and rotary/learned both run.
    q, k, v = torch.randn(3, 2, 4, 9, 8).unbind(0)
    t = q.size(-2)
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(8)
    manual = scores.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float("-inf"))
    check("causal attention matches a manual masked softmax",
          bool(torch.allclose(causal_attention(q, k, v), manual.softmax(-1) @ v, atol=1e-5)))
    for positions in ("rotary", "learned"):
        model = TransformerLM(20, 16, 32, 2, 2, 12, positions).eval()
        ids = torch.randint(0, 20, (2, 12))
        changed = ids.clone()
        changed[:, 7] = (changed[:, 7] + 1) % 20
        a, b = model(ids), model(changed)
        check(f"transformer ({positions}) is causal",
              bool(torch.allclose(a[:, :7], b[:, :7], atol=1e-6)) and
              not torch.allclose(a[:, 7:], b[:, 7:]))

    # RoPE makes attention scores depend only on relative position.
    rot = Rotary(8, 32)
    qv, kv = torch.randn(8), torch.randn(8)

    def score(i, j):
        qs = rot(qv.expand(1, 1, 32, 8))[0, 0, i]
        ks = rot(kv.expand(1, 1, 32, 8))[0, 0, j]
        return float(qs @ ks)
    check("rotary scores depend only on relative position",
          abs(score(5, 2) - score(20, 17)) < 1e-4 and abs(score(5, 2) - score(5, 3)) > 1e-6)

    log("self-check: " + ("all passed" if not failures else f"{len(failures)} FAILED"))
    return 0 if not failures else 1


# --------------------------------------------------------------------------------------------
# Benchmark
# --------------------------------------------------------------------------------------------

def count_params(model):
    # parameters() yields a tied tensor once, so the shared embedding is counted once.
    return sum(p.numel() for p in model.parameters())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", help="genolm corpus folder (corpus.json + shards)")
    parser.add_argument("--arch", choices=["awd_lstm", "transformer"], default="awd_lstm")
    parser.add_argument("--emb", type=int, default=400, help="embedding / model width")
    parser.add_argument("--hidden", type=int, default=1152,
                        help="LSTM hidden size, or transformer MLP width")
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--context", type=int, default=512, help="transformer window")
    parser.add_argument("--positions", choices=["rotary", "learned"], default="rotary")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--bptt", type=int, default=70, help="AWD-LSTM sequence length")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu",
                        help="cpu (default), cuda or cuda:N (needs a CUDA build of PyTorch)")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    parser.add_argument("--warmup-steps", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20, help="timed steps (after warm-up)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--drop-mult", type=float, default=1.0)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--clip", type=float, default=0.25, help="max grad norm; 0 = off")
    parser.add_argument("--log-every", type=int, default=10, help="loss to stderr every N steps")
    parser.add_argument("--self-check", action="store_true",
                        help="check the dropout semantics and exit")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    if args.self_check:
        return self_check()
    if not args.corpus:
        parser.error("--corpus is required")
    if args.steps < 1 or args.warmup_steps < 0:
        parser.error("--steps must be >= 1 and --warmup-steps >= 0")
    if not re.fullmatch(r"cpu|cuda(:\d+)?", args.device):
        parser.error(f"--device {args.device}: expected cpu, cuda or cuda:N")
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    if cuda:
        if not torch.cuda.is_available():
            parser.error(f"--device {args.device}: this PyTorch ({torch.__version__}) sees no "
                         f"CUDA device")
        if device.index is None:
            device = torch.device("cuda", torch.cuda.current_device())
        torch.cuda.set_device(device)
        # fastai's WeightDropout silences this too: the DropConnect-ed weights are a fresh tensor
        # every call, so cuDNN re-packs them every call (that cost is part of the semantics).
        warnings.filterwarnings("ignore", message=".*not part of single contiguous chunk.*")
    torch.manual_seed(args.seed)

    tokens = TokenArray(args.corpus)
    seq = args.bptt if args.arch == "awd_lstm" else args.context
    streams = LMStreams(tokens, args.batch, seq, device if cuda else None)
    if args.arch == "awd_lstm":
        model = AWDLSTMLM(tokens.vocab_size, args.emb, args.hidden, args.layers, args.drop_mult)
        loss_fn = awd_lstm_loss
    else:
        model = TransformerLM(tokens.vocab_size, args.emb, args.hidden, args.layers, args.heads,
                              args.context, args.positions, args.drop_mult)
        loss_fn = transformer_loss
    if cuda:
        model.to(device)  # after initialisation on the CPU, so the weights are the CPU run's
    model.train()
    params = count_params(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.99), eps=1e-5,
                                  weight_decay=0.01)
    log(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.precision}; "
        f"{args.arch}: {params:,} parameters; corpus {tokens.n_tokens:,} tokens, vocab "
        f"{tokens.vocab_size}; {args.batch} x {seq} tokens per step, {streams.per_part} steps "
        f"per epoch")
    if cuda:
        log(f"device {device}: {torch.cuda.get_device_name(device)}; CUDA {torch.version.cuda}, "
            f"cuDNN {torch.backends.cudnn.version()}; TF32 matmul "
            f"{torch.backends.cuda.matmul.allow_tf32}, TF32 cuDNN "
            f"{torch.backends.cudnn.allow_tf32}")
        if args.arch == "awd_lstm" and args.precision == "bf16":
            log("note: CUDA autocast runs cuDNN's LSTM in float16 whatever the autocast dtype "
                "(PyTorch's AutocastRNN.cpp); the embedding, decoder and loss run in bf16/fp32")
    elif args.arch == "awd_lstm" and args.precision == "bf16":
        # On CPU aten::lstm is a composite op, so autocast reaches the linear calls inside it:
        # the gate matmuls run in bf16 (w_hh, being a fresh dropout output each step, is recast
        # at every time step), while the cell arithmetic, the outputs and the state stay fp32.
        log("note: under CPU autocast the LSTM returns fp32 outputs/state, but its gate matmuls "
            "run in bf16 (aten::lstm is a composite op on CPU)")

    def step():
        inputs, targets, wrapped = streams.next()
        if wrapped:
            model.reset()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.precision == "bf16"):
            loss = loss_fn(model(inputs), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if args.clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()
        return loss

    # first_loss is the loss of the very first (untrained, warm-up) step, so that first/last
    # show learning; only the steps after warm-up are timed. The losses are the objective that
    # is backpropagated: for the AWD-LSTM that includes AR and TAR, not just cross-entropy.
    first_loss = last_loss = None
    total = args.warmup_steps + args.steps
    step_seconds = []
    step_events = []  # CUDA: (start, end) events per timed step, read after the final sync
    for i in range(total):
        if i == args.warmup_steps:
            if cuda:
                torch.cuda.synchronize(device)  # the warm-up's queued work is not timed
            start = time.perf_counter()
        tick = time.perf_counter()
        if cuda and i >= args.warmup_steps:
            step_events.append((torch.cuda.Event(enable_timing=True),
                                torch.cuda.Event(enable_timing=True)))
            step_events[-1][0].record()
        loss = step()
        if cuda and i >= args.warmup_steps:
            step_events[-1][1].record()
        elif i >= args.warmup_steps:
            step_seconds.append(time.perf_counter() - tick)
        # .item() is a cheap read on CPU (no device sync to pay for), so logging does not skew
        # the timing; it is still only done when needed (on CUDA it waits for the step).
        if i == 0 or i == total - 1 or (args.log_every and (i + 1) % args.log_every == 0):
            value = loss.item()
            if not math.isfinite(value):
                log(f"step {i + 1}: loss is {value}")
                return 1
            if i == 0:
                first_loss = value
            if i == total - 1:
                last_loss = value
            log(f"step {i + 1}/{total}: loss {value:.4f}")
    if cuda:
        torch.cuda.synchronize(device)  # every timed step has finished on the GPU
    seconds = time.perf_counter() - start
    if cuda:
        step_seconds = [begin.elapsed_time(end) / 1000.0 for begin, end in step_events]
    # On a shared machine one preempted step (OpenMP threads wait for each other) can dominate
    # the total; the median shows whether the mean was disturbed.
    median = float(np.median(step_seconds))
    log(f"timed {args.steps} steps: {seconds:.3f} s; per step min {min(step_seconds):.4f} s, "
        f"median {median:.4f} s, max {max(step_seconds):.4f} s; "
        f"{args.batch * seq / median:.1f} tokens/s at the median step")
    result = {
        "arch": args.arch,
        "precision": args.precision,
        "threads": torch.get_num_threads(),
        "batch": args.batch,
        "bptt_or_context": seq,
        "params": params,
        "steps": args.steps,
        "seconds": round(seconds, 4),
        "tokens_per_s": round(args.batch * seq * args.steps / seconds, 1),
        "first_loss": round(first_loss, 5),
        "last_loss": round(last_loss, 5),
    }
    if cuda:  # extra keys on a GPU only: the CPU line stays as it was
        result.update({
            "device": str(device),
            "device_name": torch.cuda.get_device_name(device),
            "torch": torch.__version__,
            "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version(),
            "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
            "tf32_cudnn": torch.backends.cudnn.allow_tf32,
            "median_step_s": round(median, 6),
            "max_memory_gb": round(torch.cuda.max_memory_allocated(device) / 1e9, 3),
        })
        if args.arch == "awd_lstm":
            # The carried hidden state has the dtype the LSTM layers computed in.
            result["lstm_dtype"] = str(model.hidden[0][0].dtype).replace("torch.", "")
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
