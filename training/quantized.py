"""The fine-tuned transformer served in int8: torch dynamic quantisation of the encoder's Linear
layers (weights int8, activations quantised on the fly), the three heads kept in fp32.

Same outputs as `TransformerPredictor` (three heads + the L2-normalised pooled embedding), same
length-sorted chunking; on a 2-core CPU about 1.6–1.8× the fp32 throughput.

On disk a `transformer-int8` model is the fp32 model directory plus `quantization.json`: the int8
weights are made at load (under a second for m3e-small), so the saved files are portable across
torch versions and CPU kinds, and the fp32 model can always be recovered from them.

    yuqing train --model transformer-int8          # fine-tune as usual, serve quantised"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
from torch import nn

from training.transformer import HEADS_FILE, META_FILE, MultiTaskClassifier, TransformerPredictor

QUANT_FILE = "quantization.json"
SETTINGS = {"method": "torch.ao.quantization.quantize_dynamic", "modules": ["Linear"], "dtype": "qint8",
            "scope": "encoder"}


def quantize_encoder(model: MultiTaskClassifier, copy: bool = True) -> MultiTaskClassifier:
    """Swap the encoder's Linear layers for dynamically quantised int8 ones (on a copy of the
    encoder unless `copy` is False, when the encoder given is changed in place)."""
    import warnings

    with warnings.catch_warnings():  # torch.ao.quantization announces its move to torchao
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.filterwarnings("ignore", message=".*quantized tensor creation functions.*")
        from torch.ao.quantization import quantize_dynamic

        model.encoder = quantize_dynamic(model.encoder.eval(), {nn.Linear}, dtype=torch.qint8, inplace=not copy)
    return model.eval()


class QuantizedTransformerPredictor(TransformerPredictor):
    kind = "transformer-int8"

    @classmethod
    def load(cls, directory: Path) -> QuantizedTransformerPredictor:
        return cls.from_fp32(TransformerPredictor.load(directory), copy=False)  # the fp32 one is not kept

    @classmethod
    def from_fp32(cls, predictor: TransformerPredictor, copy: bool = True) -> QuantizedTransformerPredictor:
        """The int8 form of a saved fp32 predictor (left untouched unless `copy` is False).

        It must have been saved or loaded from a directory (fine_tune's result is): that directory
        holds the fp32 weights an int8 model is saved as."""
        if predictor.directory is None:
            raise ValueError("quantise a transformer that was saved first (its directory holds the fp32 weights)")
        fp32 = predictor.model
        model = MultiTaskClassifier.__new__(MultiTaskClassifier)
        nn.Module.__init__(model)
        model.encoder, model.dropout, model.heads, model.config = fp32.encoder, fp32.dropout, fp32.heads, fp32.config
        return cls(quantize_encoder(model, copy), predictor.tokenizer, predictor.max_length, predictor.directory)

    def save(self, directory: Path) -> None:
        directory, source = Path(directory), Path(self.directory)
        if directory.resolve() != source.resolve():
            directory.mkdir(parents=True, exist_ok=True)
            shutil.copytree(source / "encoder", directory / "encoder", dirs_exist_ok=True)
            for name in (HEADS_FILE, META_FILE):
                shutil.copy2(source / name, directory / name)
        (directory / QUANT_FILE).write_text(json.dumps(SETTINGS))
