"""A reference loader for genolm's exported models, in PyTorch, numpy and the standard library.

`genolm export --model RUN --out DIR` writes DIR/config.json (architecture, tokenizer, task) and
DIR/model.safetensors (the run's weights under genolm's own tensor names). This module rebuilds
the tokenizer, the encoder and the language model or fine-tuned classifier from them, and computes
what `genolm embed`, `genolm predict` and `genolm score` compute, to float tolerance:

    import genolm_export
    model = genolm_export.load("exports/promoters")
    vectors = model.embed(["ACGTTGCA...", "TTGACA..."], pool="mean")    # [N, D] float32
    predictions = model.predict(["ACGTTGCA..."])                        # probabilities or values

The maths follows genolm's C++ (src/models, src/train/inference.cpp, tokenizers/src), which is
the authority: where this file and it disagree, this file is wrong. It computes in fp32 on the CPU,
as genolm does by default there. SentencePiece (bpe and unigram tokenizers) is imported only when
such a tokenizer is loaded.
"""

from __future__ import annotations

import json
import math
import struct
import zlib
from pathlib import Path

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

__all__ = ["load", "read_safetensors", "ExportedModel", "Tokenizer", "reverse_complement"]

# ---------------------------------------------------------------------------------------------
# safetensors, read with numpy alone
# ---------------------------------------------------------------------------------------------

# safetensors dtype names -> numpy dtypes (little-endian, as the format stores them). BF16 has no
# numpy dtype: it is read as uint16 and widened to float32 by bf16_to_float32.
SAFETENSORS_DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}

CHECKSUM_KEY = "genolm_crc32"
# How the checksum entry reads in the header genolm writes (nlohmann::json's compact dump).
CHECKSUM_ENTRY = b'"genolm_crc32":"'
MAX_HEADER_BYTES = 100 << 20  # genolm's bound: real headers are kilobytes


class SafetensorsError(ValueError):
    """A safetensors file that is damaged or not what genolm writes."""


def bf16_to_float32(raw: np.ndarray) -> np.ndarray:
    """bfloat16 bits (uint16) -> float32: bf16 is the top half of a float32."""
    return (raw.astype(np.uint32) << 16).view(np.float32)


def _checksum_digits_at(header: bytes) -> int | None:
    """Offset in the file of the 8 hex digits of genolm_crc32, None when the header does not hold
    the entry exactly once (then which digits were zeroed when it was computed is unknown)."""
    at = header.find(CHECKSUM_ENTRY)
    if at < 0 or header.find(CHECKSUM_ENTRY, at + 1) >= 0:
        return None
    return 8 + at + len(CHECKSUM_ENTRY)  # the header starts after its 8-byte length


def genolm_checksum(blob: bytes, digits_at: int) -> str:
    """CRC-32 of the whole file with the checksum's own eight digits read as '0' characters, as
    genolm computes it (src/io/safetensors.cpp), in lower-case hex."""
    crc = zlib.crc32(blob[:digits_at])
    crc = zlib.crc32(b"00000000", crc)
    crc = zlib.crc32(blob[digits_at + 8:], crc)
    return f"{crc:08x}"


def _parse_entry(name: str, entry, data_size: int, origin: str):
    """One tensor's (dtype, shape, begin, end), every number checked against the data section."""
    where = f"{origin}: tensor '{name}'"
    if not isinstance(entry, dict) or not {"dtype", "shape", "data_offsets"} <= entry.keys():
        raise SafetensorsError(f"{where} lacks dtype, shape or data_offsets")
    dtype = SAFETENSORS_DTYPES.get(entry["dtype"]) if isinstance(entry["dtype"], str) else None
    if dtype is None:
        raise SafetensorsError(f"{where} has dtype {entry['dtype']!r} "
                               f"(expected one of {', '.join(SAFETENSORS_DTYPES)})")
    shape = entry["shape"]
    # bool is an int in Python; JSON true is not a dimension.
    if not isinstance(shape, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 2**40 for d in shape):
        raise SafetensorsError(f"{where} has shape {shape!r} (expected whole numbers 0 to 2^40)")
    offsets = entry["data_offsets"]
    if (not isinstance(offsets, list) or len(offsets) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) and o >= 0 for o in offsets)):
        raise SafetensorsError(f"{where} has data_offsets {offsets!r} (expected [begin, end])")
    begin, end = offsets
    if end < begin:
        raise SafetensorsError(f"{where} ends before it begins")
    if end > data_size:
        raise SafetensorsError(f"{where} runs to byte {end} of a data section of {data_size} "
                               "(truncated or damaged)")
    expected = dtype.itemsize * math.prod(shape)
    if end - begin != expected:
        raise SafetensorsError(f"{where} holds {end - begin} bytes, but its dtype and shape "
                               f"make {expected}")
    return entry["dtype"], dtype, tuple(shape), begin, end


def read_safetensors(path, require_checksum: bool = False, widen_bf16: bool = True):
    """Reads and validates a safetensors file: (header, {name: numpy array}).

    `header` is the file's JSON header as a dict ("__metadata__" included). Every check genolm's
    reader makes is made here: the header length fits the file, the header is a JSON object, each
    dtype is known, each shape's byte count equals its byte range, the ranges tile the data
    section (no overlap, no gap, nothing past its end), and genolm's genolm_crc32 matches (an
    error when it is missing and `require_checksum`). Arrays are in file order and own their
    memory; BF16 tensors come back as float32 unless `widen_bf16` is false (then as uint16 bits).
    Raises SafetensorsError naming the file and what is wrong.
    """
    path = Path(path)
    blob = path.read_bytes()
    origin = str(path)
    if len(blob) < 8:
        raise SafetensorsError(f"{origin}: {len(blob)} bytes, fewer than the 8 of a header length")
    (header_size,) = struct.unpack("<Q", blob[:8])
    if header_size > MAX_HEADER_BYTES or header_size > len(blob) - 8:
        raise SafetensorsError(f"{origin}: the header claims {header_size} bytes but the file has "
                               f"{len(blob)} (truncated or damaged)")
    header_bytes = blob[8:8 + header_size]
    data = memoryview(blob)[8 + header_size:]
    try:
        header = json.loads(header_bytes)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SafetensorsError(f"{origin}: the header is not JSON ({error})") from None
    if not isinstance(header, dict):
        raise SafetensorsError(f"{origin}: the header is not a JSON object")

    metadata = header.get("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise SafetensorsError(f"{origin}: __metadata__ is not an object of strings")

    entries = []
    for name, entry in header.items():
        if name != "__metadata__":
            entries.append((name,) + _parse_entry(name, entry, len(data), origin))

    # The ranges must tile the data section: no byte read twice, none unaccounted for.
    entries.sort(key=lambda e: e[4])
    covered = 0
    for name, _, _, _, begin, end in entries:
        if begin != covered:
            raise SafetensorsError(f"{origin}: tensor '{name}' starts at byte {begin} of the data "
                                   f"section, expected {covered} (tensors overlap or leave a gap)")
        covered = end
    if covered != len(data):
        raise SafetensorsError(f"{origin}: the tensors cover {covered} of {len(data)} data bytes")

    if CHECKSUM_KEY in metadata:
        saved = metadata[CHECKSUM_KEY]
        digits_at = _checksum_digits_at(header_bytes)
        if digits_at is None or len(saved) != 8:
            raise SafetensorsError(f"{origin}: its genolm_crc32 checksum is malformed")
        if genolm_checksum(blob, digits_at) != saved:
            raise SafetensorsError(f"{origin} is damaged: its bytes do not match the checksum "
                                   "saved with them")
    elif require_checksum:
        raise SafetensorsError(f"{origin}: no genolm_crc32 checksum (genolm writes one in every "
                               "file)")

    tensors = {}
    for name, dtype_name, dtype, shape, begin, end in entries:
        array = np.frombuffer(data[begin:end], dtype=dtype).reshape(shape).copy()
        if dtype_name == "BF16" and widen_bf16:
            array = bf16_to_float32(array)
        tensors[name] = array
    return header, tensors


# ---------------------------------------------------------------------------------------------
# Tokenizers (tokenizers/src): every kind puts the 7 specials first, in the same order
# ---------------------------------------------------------------------------------------------

SPECIAL_KEYS = ("pad", "unk", "bos", "eos", "sep", "cls", "mask")
DEFAULT_SPECIALS = {key: i for i, key in enumerate(SPECIAL_KEYS)}
SPECIAL_COUNT = len(SPECIAL_KEYS)

# IUPAC complements (alphabet.cpp); anything else stays as it is, case is kept.
_COMPLEMENT = bytes.maketrans(b"ACGTURYKMBVDHSWNacgturykmbvdhswn",
                              b"TGCAAYRMKVBHDSWNtgcaayrmkvbhdswn")


def reverse_complement(sequence: str) -> str:
    """The other strand, as genolm computes it for strand averaging."""
    return sequence.encode("utf-8").translate(_COMPLEMENT)[::-1].decode("utf-8", "replace")


def _upper(sequence: str) -> bytes:
    """genolm reads a record's bytes upper-cased, ASCII letters only (task_data.cpp)."""
    return sequence.encode("utf-8").upper()  # bytes.upper() touches ASCII alone


class Tokenizer:
    """Sequence -> token ids as genolm encodes a record for a model: upper-cased, then the kind's
    encoding; a pair of chains is joined by <sep>. No <bos>: classifiers and embeddings read
    none (language-model likelihoods add it themselves)."""

    def __init__(self, config: dict):
        self.config = config
        self.kind = config["kind"]
        self.parameters = config.get("parameters", {})
        self.vocab_size = int(config["vocab_size"])
        self.vocabulary = config.get("vocabulary")
        self.specials = {**DEFAULT_SPECIALS, **config.get("specials", {})}

    # The other strand is the same molecule for DNA tokenizers only.
    @property
    def reads_dna(self) -> bool:
        return self.kind != "protein"

    def encode(self, sequence: str) -> list[int]:
        return self._encode_bytes(_upper(sequence))

    def encode_pair(self, first: str, second: str) -> list[int]:
        return self.encode(first) + [self.specials["sep"]] + self.encode(second)

    def encode_record(self, record) -> list[int]:
        """A str, or a pair of chains (tuple or list of two str)."""
        if isinstance(record, str):
            return self.encode(record)
        if len(record) == 1:
            return self.encode(record[0])
        if len(record) == 2:
            return self.encode_pair(record[0], record[1])
        raise ValueError(f"a record is one sequence or a pair, not {len(record)} sequences")

    def _encode_bytes(self, sequence: bytes) -> list[int]:
        raise NotImplementedError


class KmerTokenizer(Tokenizer):
    """Windows of k bases every `stride` bases (kmer.cpp); id = 7 + the window's base-4 code
    (A=0, C=1, G=2, T/U=3), or <unk> when the window holds anything else (N, IUPAC codes)."""

    def __init__(self, config: dict):
        super().__init__(config)
        self.k = int(self.parameters["k"])
        self.stride = int(self.parameters["stride"])
        if not 1 <= self.stride <= self.k:
            raise ValueError(f"k-mer stride {self.stride} is out of range for k={self.k}")
        self.codes = np.full(256, -1, dtype=np.int64)
        for code, bases in enumerate((b"Aa", b"Cc", b"Gg", b"TtUu")):
            for base in bases:
                self.codes[base] = code
        if self.vocab_size != SPECIAL_COUNT + 4 ** self.k:
            raise ValueError(f"a {self.k}-mer vocabulary has {SPECIAL_COUNT + 4 ** self.k} "
                             f"tokens, the config says {self.vocab_size}")
        # The id order is implied by the arithmetic above; the vocabulary must agree with it.
        if self.vocabulary is not None:
            for index in (SPECIAL_COUNT, SPECIAL_COUNT + 1, self.vocab_size - 1):
                expected = self._kmer_of(index - SPECIAL_COUNT)
                if self.vocabulary[index] != expected:
                    raise ValueError(f"vocabulary id {index} is {self.vocabulary[index]!r}, "
                                     f"expected {expected!r}")

    def _kmer_of(self, code: int) -> str:
        return "".join("ACGT"[(code >> (2 * (self.k - 1 - i))) & 3] for i in range(self.k))

    def _encode_bytes(self, sequence: bytes) -> list[int]:
        n = len(sequence)
        if n < self.k:
            return []
        codes = self.codes[np.frombuffer(sequence, dtype=np.uint8)]
        starts = np.arange((n - self.k) // self.stride + 1) * self.stride
        # A window is valid when none of its k bases is unknown: count unknowns by prefix sums.
        unknown = np.concatenate([[0], np.cumsum(codes < 0)])
        valid = unknown[starts + self.k] == unknown[starts]
        value = np.zeros(len(starts), dtype=np.int64)
        for offset in range(self.k):
            value = value * 4 + np.maximum(codes[starts + offset], 0)
        ids = np.where(valid, SPECIAL_COUNT + value, self.specials["unk"])
        return ids.tolist()


class CharacterTokenizer(Tokenizer):
    """One token per letter (character.cpp). Nucleotides: A C G T, U read as T. Proteins: the 20
    amino acids and X; B, Z, J, U and O read as X. Any other byte is <unk>."""

    ALIASES = {"nucleotide": {"U": "T"}, "protein": dict.fromkeys("BZJUO", "X")}

    def __init__(self, config: dict):
        super().__init__(config)
        symbols = self.parameters["symbols"]
        self.table = np.full(256, self.specials["unk"], dtype=np.int64)
        for i, symbol in enumerate(symbols):
            for case in (symbol.upper(), symbol.lower()):
                self.table[ord(case)] = SPECIAL_COUNT + i
        for alias, target in self.ALIASES[self.kind].items():
            for case in (alias.upper(), alias.lower()):
                self.table[ord(case)] = self.table[ord(target)]
        if self.vocab_size != SPECIAL_COUNT + len(symbols):
            raise ValueError(f"{len(symbols)} symbols make {SPECIAL_COUNT + len(symbols)} tokens, "
                             f"the config says {self.vocab_size}")
        if self.vocabulary is not None and list(self.vocabulary[SPECIAL_COUNT:]) != list(symbols):
            raise ValueError("the vocabulary does not list the tokenizer's symbols in order")

    def _encode_bytes(self, sequence: bytes) -> list[int]:
        return self.table[np.frombuffer(sequence, dtype=np.uint8)].tolist()


class SentencePieceTokenizer(Tokenizer):
    """SentencePiece BPE or unigram (sentencepiece.cpp): the sequence is cut into pieces of
    `piece_bases` bytes from its start and each piece is encoded on its own, so that genome-long
    records encode as they did when streamed."""

    def __init__(self, config: dict, model_file: Path):
        super().__init__(config)
        try:
            import sentencepiece  # only bpe and unigram need it
        except ImportError:
            raise ImportError("a bpe or unigram tokenizer needs the sentencepiece package "
                              "(pip install sentencepiece, or apt install python3-sentencepiece)"
                              ) from None
        self.piece_bases = int(self.parameters["piece_bases"])
        self.processor = sentencepiece.SentencePieceProcessor()
        self.processor.Load(str(model_file))
        if self.processor.GetPieceSize() != self.vocab_size:
            raise ValueError(f"{model_file} has {self.processor.GetPieceSize()} pieces, the config "
                             f"says {self.vocab_size}")

    def _encode_bytes(self, sequence: bytes) -> list[int]:
        ids: list[int] = []
        for start in range(0, len(sequence), self.piece_bases):
            piece = sequence[start:start + self.piece_bases].decode("utf-8", "replace")
            ids.extend(self.processor.EncodeAsIds(piece))
        return ids


def make_tokenizer(config: dict, root: Path) -> Tokenizer:
    kind = config["kind"]
    if kind == "kmer":
        return KmerTokenizer(config)
    if kind in ("nucleotide", "protein"):
        return CharacterTokenizer(config)
    if kind in ("bpe", "unigram"):
        model_file = root / config.get("model_file", "tokenizer/sentencepiece.model")
        return SentencePieceTokenizer(config, model_file)
    raise ValueError(f"unknown tokenizer kind {kind!r} (expected kmer, nucleotide, protein, bpe "
                     "or unigram)")


# ---------------------------------------------------------------------------------------------
# Encoders (src/models). Tensor names are genolm's, so a state dict loads as it is.
# forward(ids [B, T], state) -> (states [B, T, D], state): the LSTM carries its state from chunk
# to chunk; the transformer reads each chunk on its own and carries nothing.
# ---------------------------------------------------------------------------------------------


class AwdLstm(nn.Module):
    """AWD-LSTM in inference: embedding, then LSTM layers (the last sized to the embedding). The
    dropouts and DropConnect are training-only, so the raw recurrent weight is the one used."""

    def __init__(self, description: dict):
        super().__init__()
        vocab, emb = int(description["vocab_size"]), int(description["emb_size"])
        hidden, self.layer_count = int(description["hidden_size"]), int(description["layers"])
        self.output_size = emb
        self.embedding = nn.Parameter(torch.zeros(vocab, emb))
        self.sizes = []
        for layer in range(self.layer_count):
            width_in = emb if layer == 0 else hidden
            width = emb if layer == self.layer_count - 1 else hidden
            self.sizes.append(width)
            prefix = f"lstm{layer}_"
            for name, shape in (("weight_ih", (4 * width, width_in)),
                                ("weight_hh_raw", (4 * width, width)),  # DropConnect's raw weight
                                ("bias_ih", (4 * width,)), ("bias_hh", (4 * width,))):
                self.register_parameter(prefix + name, nn.Parameter(torch.zeros(shape)))
        self.output_layer = 0  # 1-based layer forward() returns; 0: the last

    def layers_to_run(self) -> int:
        return self.output_layer if 0 < self.output_layer < self.layer_count else self.layer_count

    def forward(self, ids: torch.Tensor, state=None):
        batch = ids.size(0)
        if state is None:
            state = [(torch.zeros(batch, w), torch.zeros(batch, w)) for w in self.sizes]
        state = list(state)
        x = F.embedding(ids, self.embedding)
        for layer in range(self.layers_to_run()):
            p = f"lstm{layer}_"
            h, c = state[layer]
            x, h, c = lstm_layer(x, h, c, getattr(self, p + "weight_ih"),
                                 getattr(self, p + "weight_hh_raw"), getattr(self, p + "bias_ih"),
                                 getattr(self, p + "bias_hh"))
            state[layer] = (h, c)
        return x, state


def lstm_layer(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """One LSTM layer over x [B, T, in] from (h, c) [B, H]: PyTorch's gate order i, f, g, o.
    The input projections of all steps are computed at once, as genolm's fused layer does."""
    gates_in = x @ w_ih.t() + (b_ih + b_hh)
    outputs = []
    for t in range(x.size(1)):
        i, f, g, o = (gates_in[:, t] + h @ w_hh.t()).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outputs.append(h)
    return torch.stack(outputs, dim=1), h, c


class Transformer(nn.Module):
    """genolm's causal pre-norm transformer: embedding (+ learned positions), blocks of
    [LayerNorm, causal attention with rotary or no positions, residual] and [LayerNorm, GELU MLP,
    residual], and a final LayerNorm that only the last layer's output passes through."""

    def __init__(self, description: dict):
        super().__init__()
        vocab, d = int(description["vocab_size"]), int(description["emb_size"])
        self.heads, self.layer_count = int(description["heads"]), int(description["layers"])
        self.context, self.positions_kind = int(description["context"]), description["positions"]
        ff = int(description["hidden_size"])
        self.output_size, self.head_dim = d, d // self.heads
        self.embedding = nn.Parameter(torch.zeros(vocab, d))
        if self.positions_kind == "learned":
            self.positions = nn.Parameter(torch.zeros(self.context, d))
        elif self.positions_kind == "rotary":
            # Saved with the weights too (they are buffers); computed here the way genolm does.
            inverse_frequency = torch.pow(
                10000.0, -torch.arange(0, self.head_dim, 2, dtype=torch.float32) / self.head_dim)
            angles = torch.outer(torch.arange(self.context, dtype=torch.float32), inverse_frequency)
            self.register_buffer("rotary_cos", torch.cat([angles.cos(), angles.cos()], -1))
            self.register_buffer("rotary_sin", torch.cat([angles.sin(), angles.sin()], -1))
        else:
            raise ValueError(f"positions {self.positions_kind!r} is not rotary or learned")
        for layer in range(self.layer_count):
            p = f"block{layer}_"
            self.add_module(p + "attention_norm", nn.LayerNorm(d))
            self.add_module(p + "qkv", nn.Linear(d, 3 * d, bias=False))
            self.add_module(p + "out", nn.Linear(d, d, bias=False))
            self.add_module(p + "mlp_norm", nn.LayerNorm(d))
            self.add_module(p + "up", nn.Linear(d, ff))
            self.add_module(p + "down", nn.Linear(ff, d))
        self.final_norm = nn.LayerNorm(d)
        self.output_layer = 0

    def layers_to_run(self) -> int:
        return self.output_layer if 0 < self.output_layer < self.layer_count else self.layer_count

    def rotate(self, x: torch.Tensor) -> torch.Tensor:
        """Rotary positions on [B, H, T, D]: x * cos + rotate_half(x) * sin."""
        steps, half = x.size(2), x.size(3) // 2
        rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
        return x * self.rotary_cos[:steps] + rotated * self.rotary_sin[:steps]

    def attention(self, layer: int, x: torch.Tensor) -> torch.Tensor:
        batch, steps, d = x.shape
        qkv = getattr(self, f"block{layer}_qkv")(x).view(batch, steps, 3, self.heads, self.head_dim)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each [B, H, T, D]
        if self.positions_kind == "rotary":
            q, k = self.rotate(q), self.rotate(k)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(self.head_dim)
        future = torch.ones(steps, steps, dtype=torch.bool).triu(1)
        y = torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1) @ v
        return getattr(self, f"block{layer}_out")(y.transpose(1, 2).reshape(batch, steps, d))

    def forward(self, ids: torch.Tensor, state=None):
        if ids.size(1) > self.context:
            raise ValueError(f"{ids.size(1)} tokens is longer than the context of {self.context}")
        x = F.embedding(ids, self.embedding)
        if self.positions_kind == "learned":
            x = x + self.positions[: ids.size(1)]
        run = self.layers_to_run()
        for layer in range(run):
            p = f"block{layer}_"
            x = x + self.attention(layer, getattr(self, p + "attention_norm")(x))
            mlp_in = getattr(self, p + "mlp_norm")(x)
            x = x + getattr(self, p + "down")(F.gelu(getattr(self, p + "up")(mlp_in)))
        # An inner layer's residual stream is read as it is; the final norm belongs to the last.
        return (self.final_norm(x) if run == self.layer_count else x), None


ARCHITECTURES = {"awd_lstm": AwdLstm, "transformer": Transformer}
LSTM_INFERENCE_CHUNK = 70  # genolm's inference chunk for an LSTM (memory only: state carries)


def make_encoder(description: dict) -> nn.Module:
    arch = description.get("arch")
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r} (expected {', '.join(ARCHITECTURES)})")
    return ARCHITECTURES[arch](description)


class LanguageModel(nn.Module):
    """Encoder plus a decoder tied to its embedding, with a bias of its own."""

    def __init__(self, encoder: nn.Module):
        super().__init__()
        self.encoder = encoder
        self.decoder_bias = nn.Parameter(torch.zeros(encoder.embedding.size(0)))

    def forward(self, ids: torch.Tensor, state=None):
        states, state = self.encoder(ids, state)
        return F.linear(states, self.encoder.embedding, self.decoder_bias), state


# ---------------------------------------------------------------------------------------------
# Pooling and the classifier head (pooling_head.cpp, sequence_classifier.cpp)
# ---------------------------------------------------------------------------------------------

POOLINGS = ("mean", "max", "last", "concat")


def masked_pool(states: torch.Tensor, lengths: torch.Tensor, how: str) -> torch.Tensor:
    """[B, T, D] states of right-padded rows -> [B, D] (or [B, 3D] for concat: last, max, mean),
    over each row's real tokens only."""
    real = (torch.arange(states.size(1)).unsqueeze(0) < lengths.unsqueeze(1)).unsqueeze(2)
    pooled = {}
    if how in ("last", "concat"):
        index = (lengths - 1).view(-1, 1, 1).expand(-1, 1, states.size(2))
        pooled["last"] = states.gather(1, index).squeeze(1)
    if how in ("max", "concat"):
        pooled["max"] = states.masked_fill(~real, float("-inf")).amax(1)
    if how in ("mean", "concat"):
        pooled["mean"] = (states * real).sum(1) / lengths.unsqueeze(1).to(states.dtype)
    if how == "concat":
        return torch.cat([pooled["last"], pooled["max"], pooled["mean"]], dim=1)
    return pooled[how]


class PoolingHead(nn.Module):
    """Pooled features -> [BatchNorm1d, Dropout, Linear] blocks with ReLU between them; an output
    range squashes the outputs with a scaled sigmoid. Features are fastai's concat pooling, or
    every position's (projected) state side by side."""

    def __init__(self, head: dict, input_size: int, outputs: int):
        super().__init__()
        self.pooling = head.get("pooling", "concat")
        self.positions = int(head.get("positions", 0) or 0)
        self.position_features = int(head.get("position_features", 0) or 0)
        if self.pooling not in ("concat", "positions"):
            raise ValueError(f"unknown head pooling {self.pooling!r}")
        if self.pooling == "positions":
            if self.positions < 1:
                raise ValueError("a positional head needs its number of positions")
            if self.position_features > 0:
                self.projection = nn.Linear(input_size, self.position_features)
            width = self.positions * (self.position_features or input_size)
        else:
            width = 3 * input_size
        blocks = []
        hidden_layers, hidden_size = int(head["hidden_layers"]), int(head["hidden_size"])
        for block in range(hidden_layers + 1):
            last = block == hidden_layers
            out = outputs if last else hidden_size
            blocks += [nn.BatchNorm1d(width), nn.Dropout(), nn.Linear(width, out)]
            if not last:
                blocks.append(nn.ReLU())
            width = out
        self.layers = nn.Sequential(*blocks)
        output_range = head.get("output_range")
        self.output_range = tuple(output_range) if output_range else None

    def features(self, states: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if self.pooling == "concat":
            return masked_pool(states, lengths, "concat")
        if int(lengths.max()) > self.positions:
            raise ValueError(f"a sequence of {int(lengths.max())} tokens is longer than the "
                             f"{self.positions} positions this positional head was made for")
        kept = states[:, : self.positions]
        if self.position_features > 0:
            kept = self.projection(kept)
        # Padded positions hold zeros whatever the encoder computed there.
        real = (torch.arange(kept.size(1)).unsqueeze(0) < lengths.unsqueeze(1)).unsqueeze(2)
        kept = kept * real
        kept = F.pad(kept, (0, 0, 0, self.positions - kept.size(1)))
        return kept.reshape(kept.size(0), -1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        out = self.layers(features)
        if self.output_range:
            low, high = self.output_range
            out = torch.sigmoid(out) * (high - low) + low
        return out


class SequenceClassifier(nn.Module):
    def __init__(self, encoder: nn.Module, task: dict):
        super().__init__()
        self.encoder = encoder
        self.head = PoolingHead(task["head"], encoder.output_size, int(task["outputs"]))


# ---------------------------------------------------------------------------------------------
# The exported model and inference (src/train/inference.cpp, sequence_likelihood.cpp, cli/embed)
# ---------------------------------------------------------------------------------------------


def encode_in_chunks(module: nn.Module, ids: torch.Tensor, chunk: int) -> torch.Tensor:
    """module(ids) read `chunk` tokens at a time from a fresh state, outputs joined along time: an
    LSTM carries its state across chunks (the result does not depend on the chunk), a transformer
    reads each chunk as a window of its own (the result does)."""
    outputs, state = [], None
    for start in range(0, ids.size(1), chunk):
        out, state = module(ids[:, start:start + chunk], state)
        outputs.append(out)
    return torch.cat(outputs, dim=1)


class ExportedModel:
    """A genolm model rebuilt from an export folder. See load()."""

    def __init__(self, config: dict, tensors: dict, root: Path):
        self.config = config
        self.root = root
        self.kind = config["model"]  # "language_model", "classifier" (or "encoder": old runs)
        self.backward = config.get("direction", "forward") == "backward"
        self.tokenizer = make_tokenizer(config["tokenizer"], root)
        self.specials = self.tokenizer.specials
        self.encoder = make_encoder(config["encoder"])
        if self.tokenizer.vocab_size != int(config["encoder"]["vocab_size"]):
            raise ValueError(f"the tokenizer has {self.tokenizer.vocab_size} tokens but the "
                             f"encoder was built for {config['encoder']['vocab_size']}")
        self.language_model = self.classifier = None
        self.task = config.get("task") if isinstance(config.get("task"), dict) else None
        if self.kind == "classifier":
            if self.task is None:
                raise ValueError("a classifier export needs its task object")
            self.classifier = SequenceClassifier(self.encoder, self.task)
            self.module = self.classifier
            self.chunk = int(self.task["chunk"])
        elif self.kind in ("language_model", "encoder"):
            if self.kind == "language_model":
                self.language_model = LanguageModel(self.encoder)
            self.module = self.language_model or self.encoder
            # An LSTM carries state, so its chunk changes memory only; a transformer reads
            # windows of its context (Encoder::window in genolm).
            self.chunk = (self.encoder.context if isinstance(self.encoder, Transformer)
                          else LSTM_INFERENCE_CHUNK)
        else:
            raise ValueError(f"unknown model kind {self.kind!r}")
        self.load_tensors(tensors)
        self.module.eval()

    # -- weights ---------------------------------------------------------------------------------

    def expected_tensors(self) -> dict:
        """The module's parameters and buffers under genolm's names: {name: torch.Tensor}."""
        return dict(self.module.state_dict())

    def check_tensors(self, tensors: dict) -> list[str]:
        """Problems that keep `tensors` from loading: missing, misshapen or unknown names."""
        problems = []
        expected = self.expected_tensors()
        for name, tensor in expected.items():
            if name not in tensors:
                problems.append(f"missing tensor '{name}' {list(tensor.shape)}")
            elif tuple(tensors[name].shape) != tuple(tensor.shape):
                problems.append(f"tensor '{name}' is {list(tensors[name].shape)}, the model's is "
                                f"{list(tensor.shape)}")
        problems += [f"unexpected tensor '{name}'" for name in tensors if name not in expected]
        return problems

    def load_tensors(self, tensors: dict) -> None:
        problems = self.check_tensors(tensors)
        if problems:
            raise ValueError("the weights do not fit the model described by config.json: "
                             + "; ".join(problems))
        expected = self.expected_tensors()
        # Floating tensors are computed in fp32 whatever they were stored in (BF16 is widened).
        state = {name: torch.from_numpy(np.ascontiguousarray(array)).to(expected[name].dtype)
                 for name, array in tensors.items()}
        self.module.load_state_dict(state, strict=True)

    # -- tokens ----------------------------------------------------------------------------------

    def tokens(self, sequences, other_strand: bool = False) -> list[list[int]]:
        """Token ids as the model reads them: each record (a str or a pair of chains) upper-cased
        and tokenized; with `other_strand`, its reverse complement (each chain in place); reversed
        for a backward model."""
        if isinstance(sequences, str):
            raise TypeError("pass a list of sequences, not one str")
        if len(sequences) == 0:
            raise ValueError("no records to read")
        out = []
        for index, record in enumerate(sequences):
            if other_strand:
                if not self.tokenizer.reads_dna:
                    raise ValueError("strand averaging needs a DNA tokenizer; this model reads "
                                     "proteins")
                # The complement keeps case and encoding upper-cases, so the order of the two
                # does not matter (genolm upper-cases first).
                record = (reverse_complement(record) if isinstance(record, str)
                          else [reverse_complement(chain) for chain in record])
            ids = self.tokenizer.encode_record(record)
            if not ids:
                raise ValueError(f"record {index} is too short to give a single token")
            out.append(ids[::-1] if self.backward else ids)
        return out

    def _map_batches(self, token_lists, batch_size: int, per_batch) -> np.ndarray:
        """per_batch(ids [b, T], lengths [b]) -> [b, K] over length-sorted, right-padded batches
        (genolm's map_in_length_batches), rows returned in the input's order. Causal encoders never
        see the padding from a real token, so batching changes nothing but speed."""
        order = sorted(range(len(token_lists)), key=lambda i: -len(token_lists[i]))
        result = None
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            lengths = torch.tensor([len(token_lists[i]) for i in rows], dtype=torch.long)
            ids = torch.full((len(rows), int(lengths.max())), self.specials["pad"])
            for r, i in enumerate(rows):
                ids[r, : lengths[r]] = torch.tensor(token_lists[i], dtype=torch.long)
            with torch.no_grad():
                out = per_batch(ids, lengths).numpy()
            if result is None:
                result = np.empty((len(token_lists), out.shape[1]), dtype=out.dtype)
            result[rows] = out
        return result

    # -- embed -----------------------------------------------------------------------------------

    def layer_count(self) -> int:
        return self.encoder.layer_count

    def embed(self, sequences, pool: str = "mean", layer: int | None = None,
              rc_average: bool = False, batch_size: int = 64) -> np.ndarray:
        """`genolm embed`: one float32 vector per record, [N, D]. `pool` is mean, max, last or
        concat (last, max and mean side by side) over the real tokens; `layer` is the 1-based
        encoder layer to read (None or 0: the last; an inner LSTM layer has hidden_size
        features, an inner transformer layer is its residual stream without the final norm);
        `rc_average` averages with the other strand (DNA)."""
        if pool not in POOLINGS:
            raise ValueError(f"pool {pool!r} is not one of {', '.join(POOLINGS)}")
        layer = layer or 0
        if not 0 <= layer <= self.layer_count():
            raise ValueError(f"layer {layer}: the encoder has layers 1 to {self.layer_count()} "
                             "(0 is the last)")

        def per_batch(ids, lengths):
            states = encode_in_chunks(self.encoder, ids, self.chunk)
            return masked_pool(states, lengths, pool)

        self.encoder.output_layer = layer
        try:
            vectors = self._map_batches(self.tokens(sequences), batch_size, per_batch)
            if rc_average:
                other = self._map_batches(self.tokens(sequences, True), batch_size, per_batch)
                vectors = (vectors + other) / 2
        finally:
            self.encoder.output_layer = 0
        return vectors.astype(np.float32)

    # -- predict ---------------------------------------------------------------------------------

    def _raw_outputs(self, token_lists, batch_size: int) -> np.ndarray:
        head = self.classifier.head

        def per_batch(ids, lengths):
            states = encode_in_chunks(self.encoder, ids, self.chunk)
            return head(head.features(states, lengths))

        return self._map_batches(token_lists, batch_size, per_batch)

    def _finish(self, raw: np.ndarray) -> np.ndarray:
        """What strand averaging averages: probabilities for classification (softmax) and
        multilabel (sigmoid), raw values for regression."""
        raw = torch.from_numpy(raw)
        kind = self.task["kind"]
        if kind == "classification":
            return torch.softmax(raw, dim=1).numpy()
        if kind == "multilabel":
            return torch.sigmoid(raw).numpy()
        if kind == "regression":
            return raw.numpy()
        raise ValueError(f"unknown task kind {kind!r}")

    def output_names(self) -> list[str]:
        """Classes, regression targets or multilabel labels, in output order."""
        key = {"classification": "classes", "regression": "targets", "multilabel": "labels"}
        return list(self.task[key[self.task["kind"]]])

    def predict(self, sequences, rc_average: bool | None = None, batch_size: int = 64) -> dict:
        """`genolm predict`: {"kind", "names", "values" [N, outputs] float64, and for
        classification "predicted" (class names)}. Values are class probabilities
        (classification), label probabilities (multilabel) or values in the targets' own units
        (regression: standardised outputs mapped back with the training mean and deviation).
        `rc_average` None follows the model (task.rc_average)."""
        if self.classifier is None:
            raise ValueError("predict needs a fine-tuned model (this export is a language model)")
        if rc_average is None:
            rc_average = bool(self.task.get("rc_average", False))
        values = self._finish(self._raw_outputs(self.tokens(sequences), batch_size))
        if rc_average:
            other = self._finish(self._raw_outputs(self.tokens(sequences, True), batch_size))
            values = (values + other) / 2
        values = values.astype(np.float64)
        scaling = self.task.get("scaling")
        if self.task["kind"] == "regression" and scaling:
            values = values * np.asarray(scaling["deviation"]) + np.asarray(scaling["mean"])
        names = self.output_names()
        result = {"kind": self.task["kind"], "names": names, "values": values}
        if self.task["kind"] == "classification":
            result["predicted"] = [names[i] for i in values.argmax(axis=1)]
        return result

    def prediction_columns(self, predictions: dict) -> list[tuple[str, list]]:
        """The columns of genolm predict's TSV after "id", in order, as (name, values)."""
        values, names = predictions["values"], predictions["names"]
        if predictions["kind"] == "classification":
            return [("predicted", predictions["predicted"])] + [
                (f"prob_{n}", values[:, i].tolist()) for i, n in enumerate(names)]
        suffix = "{}_pred" if predictions["kind"] == "regression" else "prob_{}"
        return [(suffix.format(n), values[:, i].tolist()) for i, n in enumerate(names)]

    # -- score -----------------------------------------------------------------------------------

    def log_likelihood(self, sequences, rc_average: bool = False,
                       batch_size: int = 64) -> np.ndarray:
        """`genolm score`'s log_likelihood: for each record the sum over its tokens of
        ln p(token | <bos>, the tokens before it), in the order the model reads (float64)."""
        if self.language_model is None:
            raise ValueError("log_likelihood needs a language-model export (a fine-tuned run "
                             "keeps no decoder)")
        if self.config["tokenizer"].get("bos_starts_piece", True) is not True:
            raise ValueError("this model was not trained with <bos> before every piece")
        bos = self.specials["bos"]

        def per_batch(targets, lengths):
            inputs = torch.cat([torch.full((targets.size(0), 1), bos), targets[:, :-1]], dim=1)
            logits = encode_in_chunks(self.language_model, inputs, self.chunk)
            log_p = torch.log_softmax(logits, -1).gather(2, targets.unsqueeze(2)).squeeze(2)
            real = torch.arange(targets.size(1)).unsqueeze(0) < lengths.unsqueeze(1)
            return log_p.masked_fill(~real, 0).double().sum(1, keepdim=True)

        scores = self._map_batches(self.tokens(sequences), batch_size, per_batch)[:, 0]
        if rc_average:
            other = self._map_batches(self.tokens(sequences, True), batch_size, per_batch)[:, 0]
            scores = (scores + other) / 2
        return scores


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------

EXPORT_FORMAT = "genolm-export"
EXPORT_VERSION = 1


def read_config(folder) -> dict:
    """config.json of an export folder, checked for its format and version. For convenience a
    genolm run folder (model.json, tokenizer/, the weights) is read into the same shape."""
    folder = Path(folder)
    config_file = folder / "config.json"
    if config_file.exists():
        config = json.loads(config_file.read_text())
        if config.get("format") != EXPORT_FORMAT:
            raise ValueError(f"{config_file}: \"format\" is not \"{EXPORT_FORMAT}\"")
        if config.get("format_version") != EXPORT_VERSION:
            raise ValueError(f"{config_file}: format_version {config.get('format_version')!r}; "
                             f"this loader reads version {EXPORT_VERSION}")
        return config
    if (folder / "model.json").exists():
        return _config_of_run_folder(folder)
    raise FileNotFoundError(f"{folder} holds neither config.json (an export) nor model.json "
                            "(a run folder)")


def _config_of_run_folder(folder: Path) -> dict:
    card = json.loads((folder / "model.json").read_text())
    tokenizer = dict(card["tokenizer"])
    manifest = json.loads((folder / "tokenizer" / "tokenizer.json").read_text())
    tokenizer.setdefault("specials", manifest.get("specials", DEFAULT_SPECIALS))
    tokenizer.setdefault("bos_starts_piece", True)
    if tokenizer["kind"] in ("bpe", "unigram"):
        tokenizer.setdefault("model_file", "tokenizer/sentencepiece.model")
    task = card.get("task", "language_model")
    weights = card.get("weights", {})
    if isinstance(task, dict):
        model, file = "classifier", weights.get("classifier", "classifier.safetensors")
    elif "language_model" in weights:
        model, file = "language_model", weights["language_model"]
    else:
        model, file = "encoder", weights.get("encoder", "encoder.safetensors")
    return {"format": EXPORT_FORMAT, "format_version": EXPORT_VERSION,
            "produced_by": card.get("produced_by", ""), "source": str(folder), "weights": file,
            "model": model, "direction": card.get("direction", "forward"),
            "encoder": card["encoder"], "tokenizer": tokenizer, "task": task}


def load(folder) -> ExportedModel:
    """Rebuilds the model of a genolm export folder (config.json + model.safetensors) in
    inference mode. The weights' checksum is verified."""
    folder = Path(folder)
    config = read_config(folder)
    _, tensors = read_safetensors(folder / config.get("weights", "model.safetensors"),
                                  require_checksum=True)
    return ExportedModel(config, tensors, folder)
