"""Shared helpers for the usage-import tests: data paths and the import's merge rule."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from apps.usage.formats.base import Event, LineError, Merge, Parsed, Skipped

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "usage"
CLAUDE = DATA / "claude_code"
CLAUDE_PROJECTS = CLAUDE / "projects"
BIG_SESSION = next(CLAUDE_PROJECTS.glob("*/ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl"))


def read_lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def parsed(events: Iterable[Event]) -> list[Parsed]:
    return [e for e in events if isinstance(e, Parsed)]


def errors(events: Iterable[Event]) -> list[LineError]:
    return [e for e in events if isinstance(e, LineError)]


def skipped(events: Iterable[Event]) -> list[Skipped]:
    return [e for e in events if isinstance(e, Skipped)]


def merge(events: Iterable[Parsed]) -> dict[str, Parsed]:
    """What the import does with source keys: keep the largest output, or add up."""
    kept: dict[str, Parsed] = {}
    for event in events:
        current = kept.get(event.source_key)
        if current is None:
            kept[event.source_key] = event
        elif event.merge == Merge.LARGEST:
            if event.record.output_tokens > current.record.output_tokens:
                kept[event.source_key] = event
        else:
            raise AssertionError("these tests only merge LARGEST records")
    return kept
