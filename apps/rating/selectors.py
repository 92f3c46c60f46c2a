"""Rating usage against the catalog (reads only): the Django-facing entry points of the engine."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from apps.catalog.models import PriceVersion

from .adapter import book_with_version, published_book
from .book import PriceBook
from .engine import UsageRecord
from .records import RecordError, read_jsonl
from .summary import Pricing, RatingSummary, rate_all

ERROR_SAMPLES = 20


class PricingChoiceError(ValueError):
    """A --version or --at that cannot be used."""


@dataclass
class ParseErrors:
    count: int = 0
    samples: list[str] = field(default_factory=list)

    def add(self, error: RecordError) -> None:
        self.count += 1
        if len(self.samples) < ERROR_SAMPLES:
            self.samples.append(str(error))

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "samples": self.samples}


def book_for(*, version_id: str | None = None) -> PriceBook:
    if version_id is None:
        return published_book()
    version = (
        PriceVersion.objects.filter(pk=version_id).first() if str(version_id).isdigit() else None
    )
    if version is None:
        raise PricingChoiceError(f"price version {version_id} does not exist")
    return book_with_version(version)


def rate_records(
    records: Iterable[UsageRecord], *, at: datetime | None = None, version_id: str | None = None
) -> RatingSummary:
    """Price records at time of use (default), at one instant, or under one version."""
    book = book_for(version_id=version_id)
    return rate_all(records, book, Pricing(at=at, version_id=version_id))


def rate_jsonl(
    lines: Iterable[str], *, source: str, at: datetime | None = None, version_id: str | None = None
) -> tuple[RatingSummary, ParseErrors, int]:
    """Rate a JSON Lines stream of normalized records; bad lines are counted, never fatal."""
    errors = ParseErrors()
    counter = {"lines": 0}

    def good() -> Iterator[UsageRecord]:
        for number, item in read_jsonl(iter(lines), source=source):
            counter["lines"] = number
            if isinstance(item, RecordError):
                errors.add(item)
            else:
                yield item

    summary = rate_records(good(), at=at, version_id=version_id)
    return summary, errors, counter["lines"]
