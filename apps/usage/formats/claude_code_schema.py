"""The Claude Code parser's fast path: the msgspec schema of a line, and fast constructors.

Split from ``claude_code`` (which explains the fast path) to keep modules readable.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Annotated, Any

import msgspec

from apps.rating.engine import UsageRecord
from apps.usage.formats.base import Parsed

# A single request never comes near this; a bigger number is corruption, not usage.
MAX_TOKENS_PER_BUCKET = 100_000_000

# The fields ``_record`` and ``source_key`` read, and nothing else: msgspec skips every
# other key (content blocks, tool input, cwd...) without building objects. Leaf values are
# ``Any`` so that ``_fast_event`` can apply exactly the checks of ``_record``; an object
# where an object is expected is part of the type, so a wrong one fails the decode and the
# line goes to the orjson path, which names the problem.


# A count the fast path accepts as it is: a whole number in [0, 100M] (or null: 0). Anything
# else (a float, a bool, a string, out of range) fails the decode and goes to the orjson path.
_Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_TOKENS_PER_BUCKET)] | None


class _Split(msgspec.Struct, gc=False):
    ephemeral_5m_input_tokens: _Count = None
    ephemeral_1h_input_tokens: _Count = None


class _Tools(msgspec.Struct, gc=False):
    web_search_requests: _Count = None


class _Usage(msgspec.Struct, gc=False):
    input_tokens: _Count = None
    cache_creation_input_tokens: _Count = None
    cache_read_input_tokens: _Count = None
    output_tokens: _Count = None
    cache_creation: _Split | None = None
    server_tool_use: _Tools | None = None
    service_tier: Any = None
    speed: Any = None
    inference_geo: Any = None


class _Message(msgspec.Struct, gc=False):
    id: Any = None
    model: Any = None
    usage: _Usage | None = None


class _Line(msgspec.Struct, gc=False):
    type: Any = None
    message: _Message | None = None
    requestId: Any = None  # noqa: N815 - the JSON key
    sessionId: Any = None  # noqa: N815
    uuid: Any = None
    timestamp: Any = None
    costUSD: Any = None  # noqa: N815
    isApiErrorMessage: Any = None  # noqa: N815


decode_line = msgspec.json.Decoder(_Line).decode


def _slot_constructor(cls: type, names: tuple[str, ...]) -> Callable[..., Any]:
    """A positional constructor for a frozen slotted dataclass that sets its slots directly.

    A frozen dataclass's ``__init__`` goes through ``object.__setattr__`` once per field,
    about 5 us for ``UsageRecord``'s 21 fields, more than the rest of a line's work. This
    sets the same slots through their descriptors (about 3x faster) and so builds the same
    object, equal and hashing alike. It is used only while the class is still exactly that:
    the listed fields in that order, slots, no ``__post_init__``; otherwise it is the class.
    """
    fields = tuple(f.name for f in dataclasses.fields(cls))
    if fields != names or "__post_init__" in vars(cls) or "__slots__" not in vars(cls):
        return cls  # pragma: no cover - the class changed: use its own constructor
    setters = [vars(cls)[name].__set__ for name in names]
    new = object.__new__
    namespace: dict[str, Any] = {"new": new, "cls": cls}
    args = ", ".join(f"a{i}" for i in range(len(names)))
    body = "".join(f"    s{i}(obj, a{i})\n" for i in range(len(names)))
    namespace.update({f"s{i}": setter for i, setter in enumerate(setters)})
    exec(f"def construct({args}):\n    obj = new(cls)\n{body}    return obj\n", namespace)  # noqa: S102
    construct: Callable[..., Any] = namespace["construct"]
    return construct


new_record = _slot_constructor(
    UsageRecord,
    (
        "provider", "model", "timestamp", "session_id", "request_id", "input_tokens",
        "cache_read_tokens", "cache_write_5m_tokens", "cache_write_30m_tokens",
        "cache_write_1h_tokens", "cache_write_12h_tokens", "cache_write_24h_tokens",
        "output_tokens", "reasoning_tokens", "service_tier", "region", "web_search_calls",
        "cache_storage_token_hours", "billed_cost_usd", "requests", "long_context",
    ),
)  # fmt: skip
new_parsed = _slot_constructor(Parsed, ("record", "source_key", "line", "merge", "aggregate"))
