"""Stories: near-duplicate mentions (转载, 洗稿) grouped with MinHash LSH over character 3-grams.

A mention joins the most similar live story (estimated Jaccard ≥ threshold, last seen within
`max_gap_hours` of event time) or starts a new one whose id is its own mention id. Only a story's
seed text is indexed, so a chain of rewrites cannot drift far from what the story is about.
Signatures are stored, so a restarted monitor rebuilds the index from the database."""

from __future__ import annotations

import re

import numpy as np
from datasketch import MinHash, MinHashLSH

from monitoring.store import Store
from yuqing.text import normalize

NUM_PERM = 128
SCHEME = "affine32"
_PERMUTATIONS = MinHash(num_perm=NUM_PERM, seed=1).permutations  # computed once: building them is most of the cost
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
_URL = re.compile(r"https?://\S+")
_REPOST_PREFIX = re.compile(r"^(?:转发|转|rt)[:：]?\s*|//@[^:：]{1,30}[:：]")  # 转发：…, //@某某: …


def shingles(text: str, size: int = 3) -> set[bytes]:
    """Character n-grams of the text without punctuation, links or repost markers."""
    cleaned = _NOT_WORD.sub("", _REPOST_PREFIX.sub("", _URL.sub("", normalize(text))))
    if len(cleaned) <= size:
        return {cleaned.encode()} if cleaned else {b""}
    return {cleaned[i:i + size].encode() for i in range(len(cleaned) - size + 1)}


def signature(text: str) -> MinHash:
    minhash = MinHash(num_perm=NUM_PERM, seed=1, permutations=_PERMUTATIONS, scheme=SCHEME)
    minhash.update_batch(list(shingles(text)))
    return minhash


def _from_bytes(blob: bytes) -> MinHash:
    return MinHash(seed=1, hashvalues=np.frombuffer(blob, dtype=np.uint64), permutations=_PERMUTATIONS, scheme=SCHEME)


class StoryIndex:
    def __init__(self, store: Store, threshold: float = 0.6, max_gap_hours: float = 72.0):
        self.store = store
        self.threshold = threshold
        self.max_gap = max_gap_hours * 3600
        # Weighted towards recall: candidates are checked against the threshold anyway, and a missed
        # copy would count as new volume.
        self.lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM, weights=(0.2, 0.8))
        self.seeds: dict[str, MinHash] = {}
        self.last_seen: dict[str, float] = {}
        self._latest = 0.0
        self._load()

    def _load(self) -> None:
        latest = self.store.latest_ts()
        if latest is None:
            return
        for row in self.store.recent_stories(latest - self.max_gap):
            self._index(row["id"], _from_bytes(row["signature"]), row["last_ts"])
        self._latest = latest

    def _index(self, story_id: str, minhash: MinHash, last_ts: float) -> None:
        self.lsh.insert(story_id, minhash, check_duplication=False)
        self.seeds[story_id] = minhash
        self.last_seen[story_id] = last_ts

    def assign(self, mention_id: str, text: str, ts: float, reposts: int, views: int) -> tuple[str, bool]:
        """(story id, whether this mention started it). Writes the story to the store."""
        minhash = signature(text)
        story_id = self._best_match(minhash, ts)
        if story_id is None:
            self._index(mention_id, minhash, ts)
            self.store.insert_story(mention_id, ts, reposts, views, minhash.hashvalues.astype(np.uint64).tobytes())
            self._maybe_prune(ts)
            return mention_id, True
        self.last_seen[story_id] = max(self.last_seen[story_id], ts)
        self.store.grow_story(story_id, ts, reposts, views)
        return story_id, False

    def _best_match(self, minhash: MinHash, ts: float) -> str | None:
        best, best_similarity = None, 0.0
        for candidate in sorted(self.lsh.query(minhash)):  # sorted: ties resolve the same way on every replay
            if abs(ts - self.last_seen[candidate]) > self.max_gap:
                continue
            similarity = minhash.jaccard(self.seeds[candidate])
            if similarity >= self.threshold and similarity > best_similarity:
                best, best_similarity = candidate, similarity
        return best

    def _maybe_prune(self, ts: float) -> None:
        """Forget stories quiet for longer than the gap (bounded memory on a long stream)."""
        if ts - self._latest < self.max_gap / 4:
            return
        self._latest = ts
        for story_id in [s for s, last in self.last_seen.items() if ts - last > 2 * self.max_gap]:
            self.lsh.remove(story_id)
            del self.seeds[story_id], self.last_seen[story_id]
