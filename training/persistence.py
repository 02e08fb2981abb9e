"""Saving and loading a predictor by kind: the one place a model kind is registered.

A model directory holds `kind.json` beside the kind's own files. Adding a kind (e.g. an int8
transformer) means adding one line to `KINDS`; nothing here knows about MLflow."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from yuqing.predictor import Predictor

KIND_FILE = "kind.json"

# kind -> "module:Class"; imported on demand so kinds that need torch cost nothing until used.
KINDS: dict[str, str] = {
    "baseline": "training.baseline:BaselinePredictor",
    "transformer": "training.transformer:TransformerPredictor",
    "transformer-int8": "training.quantized:QuantizedTransformerPredictor",
    "ensemble": "training.ensemble:EnsemblePredictor",
}


class ModelDirectoryError(ValueError):
    """A model directory that is missing its kind or names a kind this code does not know."""


def predictor_class(kind: str) -> type:
    if kind not in KINDS:
        raise ModelDirectoryError(f"unknown model kind {kind!r}; known kinds: {', '.join(KINDS)}")
    module, name = KINDS[kind].split(":")
    return getattr(importlib.import_module(module), name)


def save_predictor(predictor: Predictor, directory: Path) -> None:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    predictor_class(predictor.kind)  # refuse to write a kind that could not be loaded back
    predictor.save(directory)  # type: ignore[attr-defined]
    (directory / KIND_FILE).write_text(json.dumps({"kind": predictor.kind}))


def load_predictor_from(directory: Path) -> Predictor:
    """The predictor saved in a model directory, whichever kind it is."""
    marker = Path(directory) / KIND_FILE
    try:
        kind = json.loads(marker.read_text())["kind"]
    except (OSError, ValueError, KeyError) as error:
        raise ModelDirectoryError(f"{directory} is not a saved model: {marker.name} unreadable ({error})") from error
    return predictor_class(kind).load(Path(directory))
