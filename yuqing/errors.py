"""Errors a user can fix (bad input, missing model, bad configuration), kept apart from bugs.

The command line prints a `UserError` as one `error: …` line and exits 2; anything else keeps its
traceback, so a programming error is never disguised as bad input."""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix: bad input, a missing model, a bad setting."""


class ModelNotFoundError(UserError, LookupError):
    """No model at that URI (nothing registered, no such version or alias, no such path)."""


class ModelLoadError(RuntimeError):
    """A model exists but cannot be loaded: a broken artifact must fail loudly, never fall back."""
