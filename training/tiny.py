"""A tiny BERT built from a handful of texts: a real transformer base for tests and smoke runs,
with a character vocabulary of a few hundred entries and 2 layers (no download needed)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from transformers import BertConfig, BertModel, BertTokenizerFast

from yuqing.text import normalize

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def build_tiny_base(directory: Path, texts: Iterable[str], hidden_size: int = 64, layers: int = 2) -> Path:
    chars = sorted({c for t in texts for c in normalize(t) if not c.isspace()})
    directory.mkdir(parents=True, exist_ok=True)
    vocab = directory / "vocab.txt"
    vocab.write_text("\n".join(SPECIAL + chars) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab_file=str(vocab), do_lower_case=False, tokenize_chinese_chars=True)
    config = BertConfig(vocab_size=len(SPECIAL) + len(chars), hidden_size=hidden_size, num_hidden_layers=layers,
                        num_attention_heads=4, intermediate_size=hidden_size * 2, max_position_embeddings=320)
    BertModel(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
