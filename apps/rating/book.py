"""A price book: every price sheet by model, with alias resolution and dated look-up.

Pure Python. The ORM adapter (``apps.rating.adapter``) builds one from the catalog.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from .engine import PriceSheet

# Dated snapshot suffixes: claude-sonnet-4-5-20250929, gpt-4o-2024-08-06, ...@20250929
_DATE_SUFFIX = re.compile(r"[-@](?:\d{8}|\d{4}-\d{2}-\d{2})$")
# Router and cloud prefixes: anthropic/claude-..., openrouter/openai/gpt-..., models/gemini-...
_PREFIX = re.compile(r"^(?:[a-z0-9_.-]+/)+")


def normalize_model_id(raw: str) -> str:
    return raw.strip().lower()


def candidate_ids(raw: str) -> list[str]:
    """Ids to try, most specific first, for a model string seen in a log or request."""
    first = normalize_model_id(raw)
    out: list[str] = []

    def add(value: str) -> None:
        if value and value not in out:
            out.append(value)

    add(first)
    bare = _PREFIX.sub("", first)
    add(bare)
    # Anthropic's dated snapshot ids are the same model at the same price as the undated
    # id, so a new snapshot resolves before the catalog lists it. OpenAI's are not
    # (gpt-4o-2024-05-13 cost $5/$15, gpt-4o $2.50/$10): those resolve only by alias.
    for value in list(out):
        if value.startswith("claude"):
            add(_DATE_SUFFIX.sub("", value))
    # OpenRouter writes Anthropic versions with dots (claude-opus-4.7); catalogs use dashes.
    for value in list(out):
        if value.startswith("claude"):
            add(value.replace(".", "-"))
    return out


@dataclass(slots=True)
class PriceBook:
    """Sheets per canonical model id, sorted by ``effective_from``."""

    sheets: dict[str, list[PriceSheet]] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    _starts: dict[str, list[datetime]] = field(default_factory=dict)
    _by_version: dict[str, PriceSheet] = field(default_factory=dict)

    @classmethod
    def build(cls, sheets: Iterable[PriceSheet], aliases: dict[str, str]) -> PriceBook:
        book = cls()
        for sheet in sheets:
            book.sheets.setdefault(sheet.model, []).append(sheet)
            book._by_version[str(sheet.version_id)] = sheet
        for model, items in book.sheets.items():
            items.sort(key=lambda s: s.effective_from)
            book._starts[model] = [s.effective_from for s in items]
            book.aliases.setdefault(normalize_model_id(model), model)
        for alias, model in aliases.items():
            book.aliases[normalize_model_id(alias)] = model
        return book

    def resolve(self, raw: str) -> str | None:
        """Canonical model id for any spelling, or None when the model is unknown."""
        for candidate in candidate_ids(raw):
            model = self.aliases.get(candidate)
            if model is not None:
                return model
        return None

    def sheet_at(self, model: str, when: datetime) -> PriceSheet | None:
        """The version in effect at ``when``: the latest one starting at or before it."""
        starts = self._starts.get(model)
        if not starts:
            return None
        index = bisect.bisect_right(starts, when) - 1
        return self.sheets[model][index] if index >= 0 else None

    def version(self, version_id: str) -> PriceSheet | None:
        return self._by_version.get(str(version_id))

    def models(self) -> list[str]:
        return sorted(self.sheets)
