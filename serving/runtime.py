"""Composition: the champion model, the search backend and the playbooks wired together once,
for the command line and the BentoML service alike."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cached_property
from pathlib import Path

from yuqing.config import configure_environment
from yuqing.labels import TASKS
from yuqing.schemas import Mention, Prediction
from yuqing.text import add_words


class Runtime:
    def __init__(self, model_uri: str | None = None, backend=None, predictor=None, model_version: str | None = None):
        self.settings = configure_environment()
        self.model_uri = model_uri
        self._model_version = model_version
        if backend is not None:
            self.__dict__["backend"] = backend
        if predictor is not None:
            self.__dict__["predictor"] = predictor

    @property
    def model_version(self) -> str:
        """What answers name as their model: the registry version ("3") when known, else the URI."""
        if self._model_version:
            return self._model_version
        uri = self.model_uri or self.settings.champion_uri
        prefix = f"models:/{self.settings.model_name}/"
        return uri[len(prefix):] if uri.startswith(prefix) else uri

    @cached_property
    def predictor(self):
        from yuqing.predictor import load_predictor

        return load_predictor(self.model_uri)

    @cached_property
    def backend(self):
        from search import open_backend

        return open_backend()

    # ---- classification and indexing ----------------------------------------------------------
    def classify(self, texts: Sequence[str], batch_size: int = 32) -> list[Prediction]:
        return self.predictor.predict(list(texts), batch_size=batch_size)

    def label_mentions(self, records: list[dict]) -> list[dict]:
        """Validate mention records and add labels, scores and embeddings where they are missing."""
        mentions = [Mention.model_validate(r).model_dump(mode="json", exclude_none=True) for r in records]
        add_words([m["subject"] for m in mentions if m.get("subject")])
        todo = [m for m in mentions if any(m.get(t) is None for t in TASKS) or m.get("embedding") is None]
        for mention, prediction in zip(todo, self.classify([m["text"] for m in todo])):
            for task in TASKS:
                mention.setdefault(task, getattr(prediction, task))
            mention.setdefault("scores", prediction.scores)
            if prediction.embedding is not None:
                mention.setdefault("embedding", prediction.embedding)
        return mentions

    def index_mentions(self, records: list[dict]) -> int:
        return self.backend.upsert("mentions", self.label_mentions(records))

    def ingest_file(self, path, batch_size: int = 256, echo=print) -> int:
        """Label and index a JSONL file of mentions in batches (idempotent by id)."""
        from yuqing.jsonl import chunks, read_records

        written = 0
        for batch in chunks(read_records(path, require=("id", "text")), batch_size):
            written += self.index_mentions(batch)
        return written

    def index_cases(self, cases: Iterable | None = None) -> int:
        """Embed the case library with the current model and upsert every case into the cases collection."""
        from playbooks.library import default_cases

        cases = list(cases if cases is not None else default_cases())
        add_words([c.organisation for c in cases])  # segment organisation names as whole words
        predictions = self.classify([c.search_text() for c in cases])
        documents = [{**c.model_copy(update={"embedding": p.embedding}).model_dump(mode="json", exclude_none=True),
                      "content_hash": self._case_hash(c)} for c, p in zip(cases, predictions)]
        return self.backend.upsert("cases", documents)

    def sync_cases(self, folder: Path | None = None) -> dict[str, int]:
        """Bring the cases collection in line with the case library: (re-)index cases that are new
        or whose content (or the embedding model) changed, delete removed ones. Runs at start-up
        and on `yuqing index-cases`, never inside a read; each write is one atomic batch, so
        concurrent readers see the old or the new library, never an empty one."""
        from playbooks.library import CASES_DIR, load_cases

        cases = load_cases(folder or CASES_DIR)  # read afresh: an edited file must be seen
        add_words([c.organisation for c in cases])
        stale = [c for c in cases if (self.backend.get("cases", c.id) or {}).get("content_hash") != self._case_hash(c)]
        library_ids = {c.id for c in cases}
        removed = [i for i in self._indexed_case_ids() if i not in library_ids]
        if stale:
            self.index_cases(stale)
        if removed:
            self.backend.delete("cases", removed)
        return {"indexed": len(stale), "removed": len(removed), "total": len(cases)}

    def _case_hash(self, case) -> str:
        import hashlib

        content = case.model_dump_json(exclude={"embedding"}) + "|" + self.model_identity
        return hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]

    @property
    def model_identity(self) -> str:
        """What the case embeddings depend on: the model's URI and version where known."""
        identity = getattr(self.predictor, "identity", None) or str(self.model_uri or self.settings.champion_uri)
        return f"{identity}#{self._model_version}" if self._model_version else identity

    def _indexed_case_ids(self) -> list[str]:
        from search.query import SearchQuery

        total = self.backend.count("cases")
        ids: list[str] = []
        for page in range(1, total // 100 + 2):
            ids += [h.id for h in self.backend.search("cases", SearchQuery(size=100, page=page)).hits]
        return ids

    # ---- retrieval and recommendations --------------------------------------------------------
    def find_cases(self, text: str, embedding, crisis_types: list[str], k: int) -> list[dict]:
        """Hybrid retrieval among cases of the predicted crisis type first, then of the runner-up;
        when too few match (a model without embeddings), other cases of those types, then any."""
        from search.query import Filters, SearchQuery

        hits = []
        for types in ([crisis_types[0]], crisis_types[1:]):
            if types and len(hits) < k:
                hits += self.backend.hybrid("cases", text, embedding, k=k, filters=Filters(equals={"crisis_type": types}))
        if len(hits) < k:
            same_type = Filters(equals={"crisis_type": crisis_types[:1]})
            hits += self.backend.search("cases", SearchQuery(filters=same_type, size=2 * k)).hits
        if len(hits) < k:
            hits += self.backend.hybrid("cases", text, embedding, k=2 * k)
        unique = {}
        for hit in hits:
            unique.setdefault(hit.id, hit)
        return [h.model_dump() for h in list(unique.values())[:k]]

    def similar(self, text: str, k: int = 5, prediction: Prediction | None = None) -> list[dict]:
        """Cases most similar to an incident description, whatever their crisis type. The service
        passes the `prediction` its batcher already made for `text`."""
        embedding = (prediction or self.classify([text])[0]).embedding
        return [h.model_dump() for h in self.backend.hybrid("cases", text, embedding, k=k)]

    def recommend(self, incident, k: int = 5, prediction: Prediction | None = None):
        """A response plan; `prediction` (of `incident.text`, made by the service's batcher) saves
        a second forward pass."""
        from playbooks.recommend import recommend

        predictor = self.predictor if prediction is None else _Precomputed(prediction, self.predictor)
        return recommend(incident, predictor, self.find_cases, timezone=self.settings.timezone, k=k)


class _Precomputed:
    """A predictor that answers the one text it was made for from a prediction already made."""

    def __init__(self, prediction: Prediction, fallback):
        self.prediction, self.fallback = prediction, fallback
        self.kind = getattr(fallback, "kind", "precomputed")

    def predict(self, texts: Sequence[str], batch_size: int = 32) -> list[Prediction]:
        if len(texts) == 1:
            return [self.prediction]
        return self.fallback.predict(texts, batch_size)
