"""The comparison pages' forms: the quick and conversation workloads, filters and sort.

Every value comes from GET parameters (``quick_workload`` also from the estimate API's
JSON). Numbers are bounded before they are converted (``apps.common.numbers``); a
workload is validated here, once, and each error names its field in the form's words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.http import QueryDict

from apps.common.numbers import NumberError, parse_decimal, parse_int, to_decimal
from apps.common.tables import parse_sort

from .display import human_gap
from .estimate.quick import QuickWorkload
from .estimate.timeline import (
    ARRIVALS,
    CONTEXT_STRATEGIES,
    MAX_TURNS,
    ConversationWorkload,
    planned_requests,
)
from .estimate.workload import MAX_GAP_SECONDS, MAX_TOKENS, WorkloadError
from .rows import DEFAULT_SORT, SORT_LABELS, Filters

# --------------------------------------------------------------------------- the quick workload

# The widest whole number any quick field accepts before its own range check (which
# names the real limit): requests per month go up to 10**10.
MAX_INPUT = 10**10
MAXIMA = {
    "input_tokens": MAX_TOKENS,
    "output_tokens": MAX_TOKENS,
    "cached_prefix_tokens": MAX_TOKENS,
    "automatic_retention_seconds": MAX_GAP_SECONDS,
}

DEFAULTS: dict[str, Any] = {
    "requests_per_month": 100_000,
    "input_tokens": 3_000,
    "output_tokens": 400,
    "cached_prefix_tokens": 2_000,
    "mean_gap_seconds": 30,
    "batch_share": "0",
    "arrival": "poisson",
}


def _int(data: Mapping[str, Any], key: str, default: Any) -> int:
    """A whole number, bounded before conversion (``apps.common.numbers``)."""
    try:
        return parse_int(data.get(key, default), key, maximum=MAXIMA.get(key, MAX_INPUT))
    except NumberError as exc:
        raise WorkloadError(key, exc.message) from exc


def _dec(data: Mapping[str, Any], key: str, default: Any) -> Decimal | None:
    value = data.get(key, default)
    if value is None or value == "":
        return None
    try:
        return parse_decimal(value, key, allow_negative=True)
    except NumberError as exc:
        if exc.kind == "too_large" and key == "mean_gap_seconds":
            raise WorkloadError(key, f"must be at most {MAX_GAP_SECONDS:,} (30 days)") from exc
        raise WorkloadError(key, exc.message) from exc


def quick_workload(
    data: Mapping[str, Any], *, defaults: Mapping[str, Any] | None = None
) -> QuickWorkload:
    """A quick workload from the API's JSON or the page's data, validated (here, once)."""
    d = {**DEFAULTS, **(defaults or {})}
    if not isinstance(data, Mapping):
        raise WorkloadError("body", "must be a JSON object")
    gap = _dec(data, "mean_gap_seconds", d["mean_gap_seconds"])
    retention = data.get("automatic_retention_seconds")
    workload = QuickWorkload(
        requests_per_month=_int(data, "requests_per_month", d["requests_per_month"]),
        input_tokens=_int(data, "input_tokens", d["input_tokens"]),
        output_tokens=_int(data, "output_tokens", d["output_tokens"]),
        cached_prefix_tokens=_int(data, "cached_prefix_tokens", d["cached_prefix_tokens"]),
        mean_gap_seconds=float(gap) if gap is not None else 0.0,
        batch_share=_dec(data, "batch_share", d["batch_share"]) or Decimal(0),
        arrival=str(data.get("arrival", d["arrival"]) or "poisson"),
        automatic_hit_rate=_dec(data, "automatic_hit_rate", None),
        automatic_retention_seconds=None
        if retention in (None, "", 0)
        else _int(data, "automatic_retention_seconds", 0),
    )
    workload.validate()
    return workload


# --------------------------------------------------------------------------- the page

WORKLOAD_FIELDS = (
    "requests_per_month",
    "input_tokens",
    "output_tokens",
    "cached_prefix_tokens",
    "mean_gap_seconds",
    "arrival",
)
FILTER_FIELDS = ("provider", "min_context", "min_output", "max_cost")
# Every quick form field; batch_percent is a percentage, which quick_workload takes as a fraction.
FIELDS = (*WORKLOAD_FIELDS, "batch_percent", *FILTER_FIELDS, "model")

# The conversation form: GET names and defaults (a coding agent: tool loops of a few seconds,
# a person thinking for a minute and a half, work resumed after two hours).
CONVERSATION_DEFAULTS = {
    "conversations": "1000",
    "turns": "30",
    "system_tokens": "8000",
    "user_tokens": "300",
    "tool_tokens": "1500",
    "turn_output_tokens": "500",
    "gap1_percent": "60",
    "gap1_seconds": "5",
    "gap2_percent": "35",
    "gap2_seconds": "90",
    "gap3_percent": "5",
    "gap3_seconds": "7200",
    "arrival": "poisson",
    "context_window": "200000",
    "context_strategy": "compaction",
    "trim_high_percent": "90",
    "trim_low_percent": "50",
    "summary_tokens": "2000",
    "seed": "0",
}
CONVERSATION_FIELDS = (*CONVERSATION_DEFAULTS, *FILTER_FIELDS, "model")
# A month of 1M requests replays in about 3 s on two cores (docs/cache-replay.md); the page
# stops there so no request ties a worker up for long. The replay itself takes up to 5M.
PAGE_MAX_REQUESTS = 1_000_000
MAX_FILTER = 10**12  # a filter above any model's window or output is still a number
GAP_RANGE = f"must be more than 0 and at most {MAX_GAP_SECONDS:,} (30 days)"
HUNDRED = Decimal(100)
MAX_SEED = 2**32 - 1
# Whole-number fields: GET name -> (ConversationWorkload field, minimum, maximum).
WHOLE_FIELDS = {
    "conversations": ("conversations_per_month", 0, PAGE_MAX_REQUESTS),
    "turns": ("turns_per_conversation", 1, MAX_TURNS),
    "system_tokens": ("system_tokens", 0, MAX_TOKENS),
    "user_tokens": ("user_tokens_per_turn", 0, MAX_TOKENS),
    "tool_tokens": ("tool_tokens_per_turn", 0, MAX_TOKENS),
    "turn_output_tokens": ("output_tokens_per_turn", 0, MAX_TOKENS),
    "context_window": ("context_window", 1, MAX_TOKENS),
    "summary_tokens": ("summary_tokens", 0, MAX_TOKENS),
    "seed": ("", 0, MAX_SEED),
}
# The three components of the gap mixture: (GET prefix, what the gap is).
GAPS = (("gap1", "Tool loops"), ("gap2", "A person thinking"), ("gap3", "Work resumed"))
# ConversationWorkload's error fields, in the form's names.
WORKLOAD_TO_FORM = {
    **{target: name for name, (target, _, _) in WHOLE_FIELDS.items() if target},
    "gaps": "gap1_percent",
    "trim_high": "trim_high_percent",
    "trim_low": "trim_low_percent",
    "body": "conversations",
}

TITLES = {
    "requests_per_month": "Requests per month",
    "input_tokens": "Input tokens per request",
    "output_tokens": "Output tokens per request",
    "cached_prefix_tokens": "Stable prefix tokens",
    "mean_gap_seconds": "Mean gap",
    "arrival": "Arrivals",
    "batch_percent": "Batch share",
    "conversations": "Conversations per month",
    "turns": "Turns per conversation",
    "system_tokens": "System + tools prefix",
    "user_tokens": "User tokens per turn",
    "tool_tokens": "Tool-result tokens per turn",
    "turn_output_tokens": "Output tokens per turn",
    **{f"{p}_percent": f"{label} share" for p, label in GAPS},
    **{f"{p}_seconds": f"{label} mean gap" for p, label in GAPS},
    "context_window": "Context window",
    "context_strategy": "At the window limit",
    "trim_high_percent": "Hysteresis high mark",
    "trim_low_percent": "Hysteresis low mark",
    "summary_tokens": "Compaction summary",
    "seed": "Seed",
    "min_context": "Min context window",
    "min_output": "Min max output",
    "max_cost": "Max monthly cost",
    "model": "Model",
    "body": "Query",
}
# quick_workload names fields in its messages; the form says them in words.
LABELS = {
    "requests_per_month": "requests per month",
    "input_tokens": "input tokens",
    "output_tokens": "output tokens",
    "cached_prefix_tokens": "prefix tokens",
    "batch_share": "batch share",
}
MAX_PROVIDERS = 50


@dataclass
class CompareForm:
    """The page's parameters: raw values to show back, parsed values, errors per field."""

    values: dict[str, str]
    providers: list[str]
    errors: dict[str, str] = field(default_factory=dict)
    workload: QuickWorkload | None = None
    filters: Filters = field(default_factory=Filters)
    sort: tuple[str, bool] = (DEFAULT_SORT, False)
    model: str = ""
    kind: str = "quick"
    names: tuple[str, ...] = FIELDS
    conversation: ConversationWorkload | None = None
    seed: int = 0

    @property
    def ready(self) -> bool:
        """A workload parsed without error: there is something to price."""
        return self.workload is not None or self.conversation is not None

    @property
    def error_list(self) -> list[dict[str, str]]:
        return [
            {"name": n, "title": TITLES.get(n, n), "message": m} for n, m in self.errors.items()
        ]

    @property
    def fields(self) -> dict[str, dict[str, str]]:
        return {
            n: {"value": self.values.get(n, ""), "error": self.errors.get(n, "")}
            for n in self.names
        }


def _message(error: WorkloadError) -> tuple[str, str]:
    """(form field, message) for an error of quick_workload, in the form's own terms."""
    name = "batch_percent" if error.field == "batch_share" else error.field
    message = str(error).split(": ", 1)[-1]
    if name == "batch_percent":
        message = message.replace("between 0 and 1", "between 0 and 100")
    for key, label in LABELS.items():
        message = message.replace(key, label)
    return name, message


def _optional_int(params: QueryDict, name: str, errors: dict[str, str]) -> int | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        return parse_int(raw, name, maximum=MAX_FILTER)
    except NumberError:
        errors[name] = "must be a whole number, 0 or more"
        return None


def _optional_decimal(raw: str, name: str, errors: dict[str, str]) -> Decimal | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return parse_decimal(raw, name)
    except NumberError:
        errors[name] = "must be a number, 0 or more"
        return None


def _parse_filters(params: QueryDict, form: CompareForm) -> None:
    """Filters, sort and chosen model: the same on every comparison page."""
    for name in ("min_context", "min_output", "max_cost", "model"):
        form.values[name] = params.get(name, "")
    form.filters = Filters(
        providers=tuple(form.providers),
        min_context=_optional_int(params, "min_context", form.errors),
        min_output=_optional_int(params, "min_output", form.errors),
        max_cost=_optional_decimal(form.values["max_cost"], "max_cost", form.errors),
    )
    form.sort = parse_sort(params.get("sort"), SORT_LABELS, DEFAULT_SORT)
    form.model = form.values["model"].strip().lower()


def _providers_param(params: QueryDict) -> list[str]:
    return [p.strip() for p in params.getlist("provider") if p.strip()][:MAX_PROVIDERS]


def parse_page(params: QueryDict) -> CompareForm:
    """The comparison page's form: the conversation form with ``form=conversation``, else
    the quick form."""
    if params.get("form") == "conversation":
        return parse_conversation(params)
    return parse_compare(params)


def parse_filters_only(params: QueryDict) -> CompareForm:
    """An imported workload's page: only filters and sort (it has no chosen model)."""
    form = CompareForm(values={}, providers=_providers_param(params), names=FILTER_FIELDS)
    _parse_filters(params, form)
    form.model = ""
    return form


def parse_compare(params: QueryDict) -> CompareForm:
    """The quick form."""
    values = {n: params.get(n, str(DEFAULTS[n])) for n in WORKLOAD_FIELDS}
    values["batch_percent"] = params.get("batch_percent", "0")
    form = CompareForm(values=values, providers=_providers_param(params))

    # A field present but empty is a mistake, not a request for the default.
    data: dict[str, Any] = {n: params[n] for n in WORKLOAD_FIELDS if n in params}
    for name, raw in data.items():
        if not str(raw).strip():
            form.errors[name] = "enter a value"
    percent = _optional_decimal(values["batch_percent"], "batch_percent", form.errors)
    if "batch_percent" in params and not values["batch_percent"].strip():
        form.errors["batch_percent"] = "enter a value"
    if percent is not None:
        data["batch_share"] = str(percent / 100)
    if not form.errors:
        try:
            form.workload = quick_workload(data)
        except WorkloadError as exc:
            name, message = _message(exc)
            form.errors[name] = message
    _parse_filters(params, form)
    return form


# --------------------------------------------------------------------------- conversation form


def _finite(raw: str) -> Decimal | None:
    try:
        return to_decimal(raw, "value")
    except NumberError:
        return None


def _whole(raw: str, low: int, high: int) -> tuple[int | None, str]:
    """(value, "") or (None, what is wrong) for a whole number between low and high."""
    try:
        return parse_int(raw, "value", minimum=low, maximum=high), ""
    except NumberError as exc:
        return None, exc.message


def _between(
    raw: str, high: Decimal, message: str, *, zero: bool = False
) -> tuple[Decimal | None, str]:
    """(value, "") for a number above 0 (or from 0 with ``zero``) up to ``high``."""
    try:
        value = to_decimal(raw, "value")
    except NumberError as exc:
        return None, (message if exc.kind == "too_large" else "must be a number")
    if value > high or value < 0 or (value == 0 and not zero):
        return None, message
    return value, ""


def _conversation_data(values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    """ConversationWorkload.from_mapping's input, with every field checked in the form's terms.

    The page checks ranges itself (and caps the month at PAGE_MAX_REQUESTS), so that an
    absurd value is named where it was typed, never a 500 deeper down (a gap of 1e308
    seconds would overflow the timeline's clock).
    """
    data: dict[str, Any] = {}
    for name, raw in values.items():
        if not raw.strip():
            errors[name] = "enter a value"
    for name, (target, minimum, maximum) in WHOLE_FIELDS.items():
        if name in errors:
            continue
        value, message = _whole(values[name], minimum, maximum)
        if message:
            errors[name] = message
        else:
            data[target or name] = value
    gaps: list[tuple[Decimal, Decimal]] = []
    for prefix, _ in GAPS:
        share_name, mean_name = f"{prefix}_percent", f"{prefix}_seconds"
        share, message = _between(
            values[share_name], HUNDRED, "must be between 0 and 100", zero=True
        )
        if message and share_name not in errors:
            errors[share_name] = message
        mean, message = _between(values[mean_name], Decimal(MAX_GAP_SECONDS), GAP_RANGE)
        if message and mean_name not in errors:
            errors[mean_name] = message
        if share and mean:  # a component with no share is left out of the mixture
            gaps.append((share, mean))
    shares_ok = not any(f"{p}_percent" in errors for p, _ in GAPS)
    if shares_ok and not gaps:
        errors["gap1_percent"] = "the three shares must add up to more than 0"
    data["gaps"] = [[str(share), str(mean)] for share, mean in gaps]
    below = "must be more than 0 and below the high mark"
    high, message = _between(
        values["trim_high_percent"], HUNDRED, "must be more than 0 and at most 100"
    )
    if message and "trim_high_percent" not in errors:
        errors["trim_high_percent"] = message
    low, message = _between(values["trim_low_percent"], HUNDRED, below)
    if low is not None and high is not None and low >= high:
        low, message = None, below
    if message and "trim_low_percent" not in errors:
        errors["trim_low_percent"] = message
    if high is not None and low is not None:
        data["trim_high"], data["trim_low"] = float(high / 100), float(low / 100)
    for name, choices in (("arrival", ARRIVALS), ("context_strategy", CONTEXT_STRATEGIES)):
        if values[name] not in choices and name not in errors:
            errors[name] = f"must be one of {', '.join(choices)}"
        data[name] = values[name]
    conversations, turns = data.get("conversations_per_month"), data.get("turns_per_conversation")
    if (
        conversations is not None
        and turns is not None
        and conversations * turns > PAGE_MAX_REQUESTS
    ):
        errors["conversations"] = (
            f"times turns per conversation must be at most {PAGE_MAX_REQUESTS:,} requests on this page"
        )
    return data


def parse_conversation(params: QueryDict) -> CompareForm:
    """The conversation form; the month is capped at PAGE_MAX_REQUESTS after its strategy."""
    values = {n: params.get(n, default).strip() for n, default in CONVERSATION_DEFAULTS.items()}
    form = CompareForm(
        values=values,
        providers=_providers_param(params),
        kind="conversation",
        names=CONVERSATION_FIELDS,
    )
    data = _conversation_data(values, form.errors)
    if not form.errors:
        try:
            conversation = ConversationWorkload.from_mapping(data, gap_weights=True)
            requests = planned_requests(conversation)
            if requests > PAGE_MAX_REQUESTS:  # compactions add requests: cap after the strategy
                raise WorkloadError(
                    "conversations_per_month",
                    f"the month would send {requests:,} requests (compactions included); "
                    f"at most {PAGE_MAX_REQUESTS:,} on this page",
                )
            form.conversation = conversation
            form.seed = data["seed"]
        except WorkloadError as exc:
            name = WORKLOAD_TO_FORM.get(exc.field, exc.field)
            form.errors[name] = str(exc).split(": ", 1)[-1].replace(" x ", " × ")
    _parse_filters(params, form)
    return form


def gap_hints(form: CompareForm) -> dict[str, str]:
    """Each mean gap as people say it ("2 h"), next to its seconds."""
    hints = {}
    for prefix, _ in GAPS:
        value = _finite(form.values.get(f"{prefix}_seconds", ""))
        ok = value is not None and 0 < value <= MAX_GAP_SECONDS
        hints[prefix] = f"= {human_gap(float(value))}" if ok and value is not None else ""
    return hints


def carried(params: QueryDict, kind: str) -> list[tuple[str, str]]:
    """The other form's parameters, kept as hidden inputs so switching back loses nothing."""
    other = CONVERSATION_DEFAULTS if kind == "quick" else (*WORKLOAD_FIELDS, "batch_percent")
    return [(n, params.get(n, "")) for n in other if n in params and n != "arrival"]
