"""A workload as a timeline of requests with their prefix structure, and the conversation form.

Pure Python and NumPy. Every workload the replay prices (a described conversation, an
imported log) becomes the same thing: one row per request, in columns, sorted by stream
(a conversation, a session) and time. A row says how long the prompt is, how many of its
leading tokens are identical to an earlier request (and so could come from a cache), and
how many of those belong to the stable system + tools prefix every stream of the
application shares. The replay (``replay``) needs nothing else.

The conversation form generates such a timeline from a few parameters with a fixed seed.
Context grows by every user message, tool result and answer, so the uncached cost of a
conversation is quadratic in its turns; at the window limit a context strategy decides
what is dropped, and with it how much of the next prompt is still a cached prefix.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from apps.common.numbers import NumberError, parse_decimal, parse_int

from .workload import MAX_GAP_SECONDS, MAX_TOKENS, WorkloadError, validate_retention

MONTH_SECONDS = 30 * 86_400  # described workloads spread their conversations over 30 days
MAX_TURNS = 10_000
MAX_REQUESTS = 5_000_000  # conversations x turns: bounded memory (~60 bytes a request)
MAX_GAP_WEIGHT = 1_000  # the page's percentages are weights too (0 to 100 each)
MAX_WHOLE = 10**10  # the widest whole number parsed; each field's own range is checked after
CONTEXT_STRATEGIES = ("none", "sliding", "hysteresis", "compaction")
ARRIVALS = ("poisson", "fixed")

KIND_TURN = 0  # an ordinary request of the conversation
KIND_COMPACTION = 1  # the extra request that summarizes the history (compaction strategy)


# --------------------------------------------------------------------------- the timeline


@dataclass(slots=True)
class Timeline:
    """Requests as columns, sorted by (stream, t); ties keep their given order.

    ``input_tokens`` is the whole prompt. ``shared`` is how many of its leading tokens are
    identical to an earlier request: the previous request of the same stream, or, for a
    stream's first request (and after the history was cut), the ``static`` prefix that
    every stream with the same static length shares (one application's system prompt and
    tools). Invariants: 0 <= static <= shared <= input_tokens.
    """

    t: np.ndarray  # float64 seconds after ``origin``
    stream: np.ndarray  # int64
    input_tokens: np.ndarray  # int64, the whole prompt
    shared: np.ndarray  # int64
    static: np.ndarray  # int64
    output: np.ndarray  # int64
    batchable: np.ndarray  # bool: may be sent through a batch tier
    kind: np.ndarray | None = None  # int8 KIND_*; None = all ordinary turns (filled in)
    origin: float = 0.0  # epoch seconds (UTC) of t = 0, for time-of-day price bands
    refused: int = 0  # requests not sent: their prompt would exceed the context window
    notes: tuple[str, ...] = ()
    _cache: dict[str, tuple[np.ndarray, ...]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.t = np.asarray(self.t, dtype=np.float64)
        n = self.t.shape[0]
        for name in ("stream", "input_tokens", "shared", "static", "output"):
            value = np.asarray(getattr(self, name), dtype=np.int64)
            if value.shape != (n,):
                raise ValueError(f"{name}: expected {n} values, got shape {value.shape}")
            setattr(self, name, value)
        self.batchable = np.asarray(self.batchable, dtype=bool)
        if self.batchable.shape != (n,):
            self.batchable = np.broadcast_to(self.batchable, (n,)).copy()
        self.kind = (
            np.zeros(n, dtype=np.int8) if self.kind is None else np.asarray(self.kind, np.int8)
        )
        if n and not np.isfinite(self.t).all():
            raise ValueError("t: times must be finite")
        if (self.static < 0).any() or (self.output < 0).any():
            raise ValueError("token counts must be 0 or more")
        if (self.static > self.shared).any() or (self.shared > self.input_tokens).any():
            raise ValueError("every request needs 0 <= static <= shared <= input_tokens")
        if n > 1:
            unsorted = (np.diff(self.stream) < 0) | (
                (np.diff(self.stream) == 0) & (np.diff(self.t) < 0)
            )
            if unsorted.any():
                self._sort()

    def _sort(self) -> None:
        order = np.lexsort((self.t, self.stream))  # stable: ties keep their order
        for name in ("t", "stream", "input_tokens", "shared", "static", "output", "batchable"):
            setattr(self, name, getattr(self, name)[order])
        self.kind = self.kinds[order]

    @property
    def kinds(self) -> np.ndarray:
        """int8 ``KIND_*`` per request (``kind`` once the constructor has filled it in)."""
        assert self.kind is not None
        return self.kind

    @property
    def n(self) -> int:
        return int(self.t.shape[0])

    @property
    def streams(self) -> int:
        return int(np.unique(self.stream).shape[0]) if self.n else 0

    def stream_prev(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(has_prev, gap, prev_prompt): the previous request of the same stream.

        ``gap`` is +inf and ``prev_prompt`` 0 where a request opens its stream.
        """
        if "stream_prev" not in self._cache:
            has_prev = np.zeros(self.n, dtype=bool)
            has_prev[1:] = self.stream[1:] == self.stream[:-1]
            gap = np.full(self.n, np.inf)
            gap[1:] = np.where(has_prev[1:], self.t[1:] - self.t[:-1], np.inf)
            prev = np.zeros(self.n, dtype=np.int64)
            prev[1:] = np.where(has_prev[1:], self.input_tokens[:-1], 0)
            self._cache["stream_prev"] = (has_prev, gap, prev)
        has_prev, gap, prev = self._cache["stream_prev"]
        return has_prev, gap, prev

    def group_gaps(self) -> tuple[np.ndarray, np.ndarray]:
        """(gap to the previous, gap to the next) request sharing this static prefix.

        Streams share their static prefix when its length is the same (the group). Over all
        of them, in time order (ties: row order); +inf where there is none.
        """
        if "group_gaps" not in self._cache:
            order = np.lexsort((self.t, self.static))
            same = self.static[order][1:] == self.static[order][:-1]
            step = np.where(same, np.diff(self.t[order]), np.inf)
            before = np.full(self.n, np.inf)
            after = np.full(self.n, np.inf)
            before[order[1:]] = step
            after[order[:-1]] = step
            self._cache["group_gaps"] = (before, after)
        before, after = self._cache["group_gaps"]
        return before, after

    @property
    def max_prompt(self) -> int:
        return int(self.input_tokens.max()) if self.n else 0

    @property
    def compactions(self) -> int:
        return int(np.count_nonzero(self.kinds == KIND_COMPACTION))


# --------------------------------------------------------------------------- the form


@dataclass(frozen=True, slots=True)
class ConversationWorkload:
    """Chat apps and coding agents: conversations of turns whose context grows.

    Token sizes are the same in every turn; only the times are random (seeded).
    ``gaps`` is a mixture of (share, mean seconds) components, e.g. tool loops of a few
    seconds, a person thinking for minutes, work resumed after hours. With ``arrival``
    ``poisson`` a gap is exponential around its component's mean; with ``fixed`` it is the
    mean itself (for bills worked out by hand).

    Validated once, where it is parsed (``from_mapping``) or built (``validate``); the
    functions that take one trust it.
    """

    conversations_per_month: int
    turns_per_conversation: int
    system_tokens: int  # the stable prefix: system prompt + tool definitions
    user_tokens_per_turn: int
    output_tokens_per_turn: int
    tool_tokens_per_turn: int = 0  # tool results added to the context per turn
    gaps: tuple[tuple[float, float], ...] = ((1.0, 30.0),)
    arrival: str = "poisson"
    context_window: int = 200_000  # the prompt budget: the model's window less the output reserve
    context_strategy: str = "none"  # none | sliding | hysteresis | compaction
    trim_high: float = 1.0  # hysteresis: trim when the prompt passes this share of the window
    trim_low: float = 0.5  # ... down to this share
    summary_tokens: int = 2_000  # compaction: the summary that replaces the history
    automatic_hit_rate: Decimal | None = None  # override of the policy's best-effort rate
    automatic_retention_seconds: int | None = None

    @property
    def new_tokens_per_turn(self) -> int:
        return self.user_tokens_per_turn + self.tool_tokens_per_turn

    def validate(self) -> None:
        ints = ("conversations_per_month", "turns_per_conversation", "system_tokens",
                "user_tokens_per_turn", "output_tokens_per_turn", "tool_tokens_per_turn",
                "context_window", "summary_tokens")  # fmt: skip
        for name in ints:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise WorkloadError(name, "must be a whole number")
            if value < 0:
                raise WorkloadError(name, "must be 0 or more")
            if name != "conversations_per_month" and value > MAX_TOKENS:
                raise WorkloadError(name, f"must be at most {MAX_TOKENS:,}")
        if not 1 <= self.turns_per_conversation <= MAX_TURNS:
            raise WorkloadError("turns_per_conversation", f"must be between 1 and {MAX_TURNS:,}")
        if self.conversations_per_month * self.turns_per_conversation > MAX_REQUESTS:
            raise WorkloadError(
                "conversations_per_month",
                f"conversations x turns must be at most {MAX_REQUESTS:,}",
            )
        if self.context_window <= 0:
            raise WorkloadError("context_window", "must be more than 0")
        if self.system_tokens + self.new_tokens_per_turn > self.context_window:
            raise WorkloadError(
                "context_window", "must hold the system prefix and one turn's new tokens"
            )
        if self.context_strategy not in CONTEXT_STRATEGIES:
            raise WorkloadError(
                "context_strategy", f"must be one of {', '.join(CONTEXT_STRATEGIES)}"
            )
        if self.arrival not in ARRIVALS:
            raise WorkloadError("arrival", "must be poisson or fixed")
        if not 0 < self.trim_low < self.trim_high <= 1:
            raise WorkloadError("trim_low", "must satisfy 0 < trim_low < trim_high <= 1")
        fits = self.system_tokens + self.summary_tokens + self.new_tokens_per_turn
        if self.context_strategy == "compaction" and fits > self.context_window:
            raise WorkloadError(
                "summary_tokens", "the system prefix, summary and one turn must fit the window"
            )
        _validate_gaps(self.gaps)
        rate = self.automatic_hit_rate
        if rate is not None and not Decimal(0) <= rate <= Decimal(1):
            raise WorkloadError("automatic_hit_rate", "must be between 0 and 1")
        retention = self.automatic_retention_seconds
        validate_retention(retention)

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], *, gap_weights: bool = False
    ) -> ConversationWorkload:
        """Parse JSON or form data; every error names its field. Validates.

        ``gaps`` shares are probabilities that add up to 1; the page passes percentages as
        weights (``gap_weights``), which the generator normalizes.
        """
        if not isinstance(data, Mapping):
            raise WorkloadError("body", "must be a JSON object")
        defaults = cls(0, 1, 0, 0, 0)
        kw: dict[str, Any] = {}
        for name in ("conversations_per_month", "turns_per_conversation", "system_tokens",
                     "user_tokens_per_turn", "output_tokens_per_turn", "tool_tokens_per_turn",
                     "context_window", "summary_tokens"):  # fmt: skip
            if name in data:
                kw[name] = _whole(name, data[name])
        for name in ("trim_high", "trim_low"):
            if name in data:
                kw[name] = float(_number(name, data[name]))
        for name in ("arrival", "context_strategy"):
            if name in data:
                kw[name] = str(data[name])
        if "gaps" in data:
            kw["gaps"] = _parse_gaps(data["gaps"])
            if not gap_weights:
                _check_probabilities(kw["gaps"])
        if data.get("automatic_hit_rate") not in (None, ""):
            kw["automatic_hit_rate"] = _number("automatic_hit_rate", data["automatic_hit_rate"])
        if data.get("automatic_retention_seconds") not in (None, "", 0):
            kw["automatic_retention_seconds"] = _whole(
                "automatic_retention_seconds", data["automatic_retention_seconds"]
            )
        required = ("conversations_per_month", "turns_per_conversation", "system_tokens",
                    "user_tokens_per_turn", "output_tokens_per_turn")  # fmt: skip
        for name in required:
            if name not in kw:
                raise WorkloadError(name, "is required")
        workload = cls(**{**_fields(defaults), **kw})
        workload.validate()
        return workload


def _fields(w: ConversationWorkload) -> dict[str, Any]:
    return {name: getattr(w, name) for name in w.__dataclass_fields__}


def _number(name: str, value: Any) -> Decimal:
    try:
        return parse_decimal(value, name, allow_negative=True)
    except NumberError as exc:
        raise WorkloadError(name, exc.message) from exc


def _whole(name: str, value: Any) -> int:
    try:
        return parse_int(value, name, maximum=MAX_WHOLE)
    except NumberError as exc:
        raise WorkloadError(name, exc.message) from exc


def _parse_gaps(value: Any) -> tuple[tuple[float, float], ...]:
    """[[share, mean_seconds], ...] or [{"share": .., "mean_seconds": ..}, ...]."""
    if not isinstance(value, Sequence) or isinstance(value, str | bytes) or not value:
        raise WorkloadError("gaps", "must be a non-empty list of [share, mean_seconds]")
    out = []
    for item in value:
        if isinstance(item, Mapping):
            pair = (item.get("share"), item.get("mean_seconds"))
        elif isinstance(item, Sequence) and not isinstance(item, str) and len(item) == 2:
            pair = (item[0], item[1])
        else:
            raise WorkloadError("gaps", "each gap must be [share, mean_seconds]")
        out.append((float(_number("gaps", pair[0])), float(_number("gaps", pair[1]))))
    return tuple(out)


def _validate_gaps(gaps: Sequence[tuple[float, float]]) -> None:
    if not gaps or len(gaps) > 16:
        raise WorkloadError("gaps", "must have between 1 and 16 components")
    for share, mean in gaps:
        if not (math.isfinite(share) and 0 <= share <= MAX_GAP_WEIGHT):
            raise WorkloadError("gaps", f"shares must be between 0 and {MAX_GAP_WEIGHT:,}")
        if not (math.isfinite(mean) and 0 < mean <= MAX_GAP_SECONDS):
            raise WorkloadError(
                "gaps", f"mean gaps must be more than 0 and at most {MAX_GAP_SECONDS:,} seconds"
            )
    if math.fsum(share for share, _ in gaps) <= 0:
        raise WorkloadError("gaps", "the shares must add up to more than 0")


def _check_probabilities(gaps: Sequence[tuple[float, float]]) -> None:
    """The API's gap shares are probabilities: each 0 to 1, adding up to 1."""
    if any(not 0 <= share <= 1 for share, _ in gaps):
        raise WorkloadError("gaps", "shares are probabilities: each between 0 and 1")
    if abs(math.fsum(share for share, _ in gaps) - 1.0) > 1e-6:
        raise WorkloadError("gaps", "shares are probabilities: they must add up to 1")


# --------------------------------------------------------------------------- the generator


@dataclass(frozen=True, slots=True)
class _Template:
    """The requests of one conversation (identical in every conversation but for times)."""

    prompt: list[int]
    shared: list[int]
    output: list[int]
    kind: list[int]
    turn: list[int]  # the turn each request belongs to (a compaction: the turn it precedes)
    refused: int  # turns not sent


def conversation_template(w: ConversationWorkload) -> _Template:
    """Prompt sizes turn by turn under the context strategy.

    Turn k sends static + history + new tokens; the history keeps every earlier turn's new
    tokens and answer (``new + output``), oldest first. While the history is intact, the
    previous prompt and its answer are a prefix of this one (``shared``); once turns are
    dropped or summarized, only the static prefix is.
    """
    static, new, out = w.system_tokens, w.new_tokens_per_turn, w.output_tokens_per_turn
    window = w.context_window
    high, low = int(window * w.trim_high), int(window * w.trim_low)
    history: list[int] = []  # tokens per kept turn (or the summary), oldest first
    kept = 0  # sum(history)
    prompt, shared, output, kind, turn = [], [], [], [], []
    refused = 0
    intact = False  # the previous request's prompt + answer is a prefix of the next one
    for k in range(w.turns_per_conversation):
        size = static + kept + new
        strategy = w.context_strategy
        if strategy == "none" and size > window:
            refused = w.turns_per_conversation - k  # the API refuses; the conversation ends
            break
        if strategy == "sliding" and size > window:
            while history and static + kept + new > window:
                kept -= history.pop(0)
            intact = False
        elif strategy == "hysteresis" and size > high:
            while history and static + kept + new > low:
                kept -= history.pop(0)
            intact = False
        elif strategy == "compaction" and size > window:
            # The extra request reads the whole history (its prompt is the previous prompt
            # and answer, all a cached prefix) and answers with the summary.
            prompt.append(static + kept)
            shared.append(static + kept if intact else static)
            output.append(w.summary_tokens)
            kind.append(KIND_COMPACTION)
            turn.append(k)
            history, kept = [w.summary_tokens], w.summary_tokens
            intact = False
        size = static + kept + new
        prompt.append(size)
        shared.append(static + kept if intact else static)
        output.append(out)
        kind.append(KIND_TURN)
        turn.append(k)
        history.append(new + out)
        kept += new + out
        intact = True
    return _Template(prompt, shared, output, kind, turn, refused)


def planned_requests(params: ConversationWorkload) -> int:
    """Requests the month sends under its context strategy (each compaction is one more).

    Cheap (one pass over the turns of one conversation), so a caller can refuse a month
    that is too big before any timeline is generated or replayed. ``params`` is valid
    (``ConversationWorkload.from_mapping`` or ``validate`` checked it).
    """
    return params.conversations_per_month * len(conversation_template(params).prompt)


def conversation_timeline(
    params: ConversationWorkload, seed: int = 0, *, origin: float = 0.0
) -> Timeline:
    """The month of conversations as a timeline, reproducible for a given seed.

    Conversations start uniformly over 30 days; each turn after the first waits a gap drawn
    from the mixture. Gaps are drawn for every turn, sent or refused, so two context
    strategies with the same seed see exactly the same times. ``params`` is valid; the
    month is refused when its compactions take it past ``MAX_REQUESTS``.
    """
    tpl = conversation_template(params)
    sent = params.conversations_per_month * len(tpl.prompt)
    if sent > MAX_REQUESTS:  # compaction adds requests: the cap holds after the strategy
        raise WorkloadError(
            "conversations_per_month",
            f"the month would send {sent:,} requests (compactions included); "
            f"at most {MAX_REQUESTS:,}",
        )
    rng = np.random.default_rng(seed)
    c, turns = params.conversations_per_month, params.turns_per_conversation
    starts = rng.uniform(0.0, MONTH_SECONDS, size=c)
    shares = np.array([s for s, _ in params.gaps], dtype=np.float64)
    means = np.array([m for _, m in params.gaps], dtype=np.float64)
    shape = (c, max(turns - 1, 0))
    component = (
        rng.choice(len(means), size=shape, p=shares / shares.sum())
        if len(means) > 1
        else np.zeros(shape, dtype=np.int64)
    )
    gaps = means[component]
    if params.arrival == "poisson":
        gaps = gaps * rng.exponential(1.0, size=shape)
    turn_times = np.empty((c, turns))
    turn_times[:, 0] = starts
    if turns > 1:
        turn_times[:, 1:] = starts[:, None] + np.cumsum(gaps, axis=1)
    r = len(tpl.prompt)
    t = turn_times[:, np.asarray(tpl.turn, dtype=np.int64)].reshape(-1) if r else np.empty(0)
    notes = []
    refused = tpl.refused * c
    if refused:
        notes.append(
            f"{refused:,} turns refused: the prompt would pass the {params.context_window:,}-token "
            "window (context strategy 'none' ends the conversation there)"
        )
    compactions = tpl.kind.count(KIND_COMPACTION) * c
    if compactions:
        notes.append(f"{compactions:,} compaction requests summarize the history")
    return Timeline(
        t=t,
        stream=np.repeat(np.arange(c, dtype=np.int64), r),
        input_tokens=np.tile(np.asarray(tpl.prompt, dtype=np.int64), c),
        shared=np.tile(np.asarray(tpl.shared, dtype=np.int64), c),
        static=np.full(c * r, params.system_tokens, dtype=np.int64),
        output=np.tile(np.asarray(tpl.output, dtype=np.int64), c),
        batchable=np.zeros(c * r, dtype=bool),  # a conversation waits for each answer
        kind=np.tile(np.asarray(tpl.kind, dtype=np.int8), c),
        origin=origin,
        refused=refused,
        notes=tuple(notes),
    )
