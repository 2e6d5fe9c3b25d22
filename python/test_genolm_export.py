"""Self-tests of the reference loader that need no genolm binary:
    /usr/bin/python3 -m unittest discover -s python -p 'test_*.py'
The comparison with genolm itself is check_export.py's (run by the C++ integration test)."""

import json
import struct
import tempfile
import unittest
import zlib
from pathlib import Path

import numpy as np
import torch

import genolm_export as gx


def safetensors_bytes(tensors: dict, checksum: bool = True, metadata: dict | None = None) -> bytes:
    """A file as genolm writes one: compact JSON header padded to 8 bytes, genolm_crc32 over the
    file with its digits as zeros. `tensors` maps name -> (dtype name, shape, raw bytes)."""
    header = {"__metadata__": dict(metadata or {})}
    if checksum:
        header["__metadata__"]["genolm_crc32"] = "00000000"
    offset, data = 0, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [offset, offset + len(raw)]}
        offset, data = offset + len(raw), data + raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    blob = struct.pack("<Q", len(text)) + text + data
    if checksum:
        at = 8 + text.index(b'"genolm_crc32":"') + len(b'"genolm_crc32":"')
        blob = blob[:at] + f"{zlib.crc32(blob):08x}".encode() + blob[at + 8:]
    return blob


class SafetensorsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = Path(self.dir.name) / "t.safetensors"
        self.weights = np.arange(6, dtype=np.float32).reshape(2, 3) / 7
        self.bf16 = np.array([1.5, -2.0, 3.140625], dtype=np.float32)
        self.tensors = {
            "w": ("F32", (2, 3), self.weights.tobytes()),
            "b": ("BF16", (3,), (self.bf16.view(np.uint32) >> 16).astype("<u2").tobytes()),
            "n": ("I64", (), np.int64(42).tobytes()),
        }

    def tearDown(self):
        self.dir.cleanup()

    def write(self, blob: bytes) -> Path:
        self.path.write_bytes(blob)
        return self.path

    def test_reads_values_and_verifies_the_checksum(self):
        header, tensors = gx.read_safetensors(self.write(safetensors_bytes(self.tensors)), True)
        np.testing.assert_array_equal(tensors["w"], self.weights)
        np.testing.assert_array_equal(tensors["b"], self.bf16)  # bf16 widened exactly
        self.assertEqual(tensors["n"].shape, ())
        self.assertEqual(int(tensors["n"]), 42)
        self.assertEqual(len(header["__metadata__"]["genolm_crc32"]), 8)

    def test_a_flipped_byte_anywhere_is_an_error(self):
        blob = safetensors_bytes(self.tensors)
        for where in (len(blob) - 1, len(blob) - 30):
            damaged = bytearray(blob)
            damaged[where] ^= 1
            with self.assertRaisesRegex(gx.SafetensorsError, "checksum"):
                gx.read_safetensors(self.write(bytes(damaged)))

    def test_a_missing_checksum_is_an_error_only_when_required(self):
        path = self.write(safetensors_bytes(self.tensors, checksum=False))
        gx.read_safetensors(path)
        with self.assertRaisesRegex(gx.SafetensorsError, "no genolm_crc32"):
            gx.read_safetensors(path, require_checksum=True)

    def test_ranges_must_tile_the_data_and_match_shapes(self):
        cases = {
            "bytes, but its dtype and shape make": {"w": ("F32", (2, 2), self.weights.tobytes())},
            "expected one of": {"w": ("F8", (6,), self.weights.tobytes())},
        }
        for message, tensors in cases.items():
            with self.assertRaisesRegex(gx.SafetensorsError, message):
                gx.read_safetensors(self.write(safetensors_bytes(tensors, checksum=False)))
        blob = safetensors_bytes({"w": self.tensors["w"]}, checksum=False)
        with self.assertRaisesRegex(gx.SafetensorsError, "cover"):
            gx.read_safetensors(self.write(blob + b"\0" * 4))  # bytes no tensor owns
        with self.assertRaisesRegex(gx.SafetensorsError, "truncated"):
            gx.read_safetensors(self.write(blob[:-4]))
        with self.assertRaisesRegex(gx.SafetensorsError, "header claims"):
            gx.read_safetensors(self.write(struct.pack("<Q", 1 << 30) + b"{}"))


def tokenizer(kind, **parameters):
    sizes = {"kmer": 7 + 4 ** parameters.get("k", 1), "nucleotide": 11, "protein": 28}
    if kind == "nucleotide":
        parameters = {"symbols": "ACGT"}
    if kind == "protein":
        parameters = {"symbols": "ACDEFGHIKLMNPQRSTVWYX"}
    return gx.make_tokenizer({"kind": kind, "parameters": parameters, "vocab_size": sizes[kind]},
                             Path("."))


class TokenizerTest(unittest.TestCase):
    def test_kmers_with_stride_and_unknown_bases(self):
        k3 = tokenizer("kmer", k=3, stride=1)
        # AAA=0, AAC=1, ACG=6; a window holding N is <unk> (1); U reads as T; case is ignored.
        self.assertEqual(k3.encode("AAACG"), [7, 7 + 1, 7 + 6])
        self.assertEqual(k3.encode("AANAC"), [1, 1, 1])
        self.assertEqual(k3.encode("uuu"), k3.encode("TTT"))
        self.assertEqual(k3.encode("AC"), [])
        k2 = tokenizer("kmer", k=2, stride=2)
        self.assertEqual(k2.encode("ACGTA"), [7 + 1, 7 + 11])  # AC, GT; the lone A is dropped

    def test_characters_and_aliases(self):
        self.assertEqual(tokenizer("nucleotide").encode("ACGTUN-"), [7, 8, 9, 10, 10, 1, 1])
        protein = tokenizer("protein")
        self.assertEqual(protein.encode("acX"), [7, 8, 27])
        self.assertEqual(protein.encode("BZJUO*"), [27] * 5 + [1])

    def test_pairs_and_strands(self):
        nt = tokenizer("nucleotide")
        self.assertEqual(nt.encode_pair("A", "C"), [7, 4, 8])
        self.assertEqual(gx.reverse_complement("AACGTN-r"), "y-NACGTT")


def tiny_config(arch: str, model: str = "language_model", task=None) -> dict:
    if arch == "awd_lstm":
        encoder = {"arch": arch, "vocab_size": 11, "emb_size": 6, "hidden_size": 10, "layers": 2}
    else:
        encoder = {"arch": arch, "vocab_size": 11, "emb_size": 8, "heads": 2, "hidden_size": 12,
                   "layers": 2, "context": 5, "positions": "rotary"}
    return {"model": model, "direction": "forward", "encoder": encoder, "task": task or model,
            "tokenizer": {"kind": "nucleotide", "parameters": {"symbols": "ACGT"},
                          "vocab_size": 11}}


def random_model(config: dict) -> gx.ExportedModel:
    """A model of `config` with random weights (taken from a first, randomly initialised build)."""
    torch.manual_seed(0)
    encoder = gx.make_encoder(config["encoder"])
    module = (gx.LanguageModel(encoder) if config["model"] == "language_model"
              else gx.SequenceClassifier(encoder, config["task"]))
    tensors = {name: (torch.randn(t.shape) * 0.5 if t.is_floating_point() else t).numpy()
               for name, t in module.state_dict().items()}
    for name in tensors:
        if name.endswith("running_var"):
            tensors[name] = np.abs(tensors[name]) + 0.5
        if name.endswith(("rotary_cos", "rotary_sin")):
            tensors[name] = module.state_dict()[name].numpy()
    return gx.ExportedModel(config, tensors, Path("."))


class ModelTest(unittest.TestCase):
    sequences = ["ACGTTGCAAC", "GGA", "TTTTACGCGTAGCATCGAT", "CAT"]

    def test_batching_and_lstm_chunks_change_nothing(self):
        model = random_model(tiny_config("awd_lstm"))
        whole = model.embed(self.sequences, pool="concat", batch_size=1)
        model.chunk = 3  # the LSTM carries its state across chunks
        np.testing.assert_allclose(model.embed(self.sequences, pool="concat"), whole, atol=1e-6)
        single = model.log_likelihood(self.sequences[:1])
        np.testing.assert_allclose(model.log_likelihood(self.sequences)[:1], single, atol=1e-5)

    def test_transformer_reads_windows_of_its_context(self):
        model = random_model(tiny_config("transformer"))
        long = "ACGTACGTACGTA"  # 13 tokens: windows of 5, 5 and 3
        states = model.embed([long], pool="last")
        np.testing.assert_allclose(states, model.embed([long[10:]], pool="last"), atol=1e-6)
        self.assertEqual(model.embed(self.sequences, pool="mean", layer=1).shape, (4, 8))

    def test_predictions_of_each_task_kind(self):
        head = {"pooling": "concat", "hidden_size": 4, "hidden_layers": 1, "dropout": 0.1}
        classes = {"kind": "classification", "classes": ["a", "b", "c"], "outputs": 3,
                   "chunk": 4, "head": head, "rc_average": True}
        predictions = random_model(tiny_config("awd_lstm", "classifier", classes)).predict(
            self.sequences)
        np.testing.assert_allclose(predictions["values"].sum(1), 1, atol=1e-6)
        self.assertEqual(len(predictions["predicted"]), 4)
        ranged = {"kind": "regression", "targets": ["y"], "outputs": 1, "chunk": 4,
                  "head": dict(head, output_range=[2.0, 3.0])}
        values = random_model(tiny_config("awd_lstm", "classifier", ranged)).predict(
            self.sequences)["values"]
        self.assertTrue(((values > 2) & (values < 3)).all())
        scaled = dict(ranged, head=head, scaling={"mean": [100.0], "deviation": [0.0]})
        values = random_model(tiny_config("awd_lstm", "classifier", scaled)).predict(
            self.sequences)["values"]
        np.testing.assert_array_equal(values, 100.0)  # deviation 0: every value is the mean


if __name__ == "__main__":
    unittest.main()
