"""Composition: the champion model, the search backend and the playbooks wired together once,
for the command line and the BentoML service alike."""

from __future__ import annotations

from functools import cached_property
from typing import Iterable, Sequence

from yuqing.config import configure_environment
from yuqing.labels import TASKS
from yuqing.schemas import Mention, Prediction
from yuqing.text import add_words


class Runtime:
    def __init__(self, model_uri: str | None = None, backend=None, predictor=None):
        self.settings = configure_environment()
        self.model_uri = model_uri
        if backend is not None:
            self.__dict__["backend"] = backend
        if predictor is not None:
            self.__dict__["predictor"] = predictor

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

    def index_cases(self, cases: Iterable | None = None) -> int:
        """Embed the case library with the current model and upsert it into the cases collection."""
        from playbooks.library import default_cases

        cases = list(cases if cases is not None else default_cases())
        add_words([c.organisation for c in cases])  # segment organisation names as whole words
        predictions = self.classify([c.search_text() for c in cases])
        documents = [c.model_copy(update={"embedding": p.embedding}).model_dump(mode="json", exclude_none=True)
                     for c, p in zip(cases, predictions)]
        return self.backend.upsert("cases", documents)

    # ---- retrieval and recommendations --------------------------------------------------------
    def find_cases(self, text: str, embedding, crisis_types: list[str], k: int) -> list[dict]:
        """Hybrid retrieval among cases of the predicted crisis type first, then of the runner-up;
        when too few match (a model without embeddings), other cases of those types, then any."""
        from search.query import Filters, SearchQuery

        self.ensure_cases_indexed()
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

    def ensure_cases_indexed(self) -> None:
        """Index the case library on first use, and again when the library's size changed."""
        from playbooks.library import default_cases

        if self.backend.count("cases") != len(default_cases()):
            self.backend.clear("cases")
            self.index_cases()

    def similar(self, text: str, k: int = 5) -> list[dict]:
        """Cases most similar to an incident description, whatever their crisis type."""
        self.ensure_cases_indexed()
        embedding = self.classify([text])[0].embedding
        return [h.model_dump() for h in self.backend.hybrid("cases", text, embedding, k=k)]

    def recommend(self, incident, k: int = 5):
        from playbooks.recommend import recommend

        return recommend(incident, self.predictor, self.find_cases, timezone=self.settings.timezone, k=k)
