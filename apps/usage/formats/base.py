"""The contract every log/export parser follows. Parsers are pure: no Django, no database.

A parser reads one file's lines (bytes, streamed) and yields, per line or row, one of:

* ``Parsed``   a usage record with its de-duplication key;
* ``Skipped``  a valid line that carries no billable usage (progress lines, user turns...);
* ``LineError`` a malformed line, with its number and a reason; parsing goes on.

Nothing is read whole into memory: a parser consumes an iterator of byte lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from apps.rating.engine import UsageRecord

# A line longer than this is refused as an error rather than parsed (a single multi-GB
# line would otherwise be held in memory whole).
MAX_LINE_BYTES = 64 * 1024 * 1024


class Merge:
    """How two records with the same source key combine (inside one import and across imports)."""

    # Streaming snapshots of one response: keep the one with the most output tokens
    # (the final copy), never add them up (log-formats.md section 1.4).
    LARGEST = "largest"
    # Rows of an aggregate export with identical keys: add them up.
    SUM = "sum"


@dataclass(frozen=True, slots=True)
class Parsed:
    record: UsageRecord
    source_key: str  # unique per workload; e.g. "claude_code:msg_01..:req_01.."
    line: int
    merge: str = Merge.LARGEST
    aggregate: bool = False  # a time bucket, not one request: the site never invents its timing


@dataclass(frozen=True, slots=True)
class Skipped:
    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class LineError:
    line: int
    reason: str


Event = Parsed | Skipped | LineError


class Parser(Protocol):
    name: str  # the --format name, e.g. "claude_code"
    description: str

    def sniff(self, head: bytes, filename: str) -> bool:
        """Whether the first bytes (up to 64 KB) and the file name look like this format."""
        ...

    def parse(self, lines: Iterable[bytes], filename: str) -> Iterator[Event]:
        """Events for every line of one file, in order; line numbers start at 1."""
        ...
