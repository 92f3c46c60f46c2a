"""The comparison page's "Subscription or pay-per-token?" section for the chosen model.

Words, money and the chart for ``subscriptions.Subscriptions``: one table line per plan
that covers the model (price, monthly capacity, break-even volume, where it stops
covering, the verdict in words) and the break-even chart. The quick form counts requests;
the conversation form conversations (a conversation costs the month over the
conversations, so a break-even in conversations is the price over that).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from apps.common.display import DASH, usd
from apps.plans.breakeven import BreakEven, PlanChoice, breakeven
from apps.plans.charts import PlanCurve, breakeven_figure
from apps.plans.models import VENDORS
from apps.plans.terms import FAMILY_LABELS, LEVELS
from apps.rating.adapter import Generation

from .charts import Chart
from .rows import Row
from .subscriptions import Subscriptions, described

VENDOR_LABELS = dict(VENDORS)
UNKNOWN = "unknown capacity"
NEVER = "never: it stops covering first"


def _count(value: Decimal | None) -> str:
    return DASH if value is None else f"{value.quantize(Decimal(1)):,}"


def levels_text(values: dict[str, Decimal | None], fmt: str = "usd") -> str:
    """Low – mid – high ("?" where one is unknown), one value when all agree, or "unknown"."""
    shown = {level: values.get(level) for level in LEVELS}
    known = [v for v in shown.values() if v is not None]
    write = usd if fmt == "usd" else _count
    if not known:
        return UNKNOWN if fmt == "usd" else DASH
    if len(known) == len(LEVELS) and len(set(known)) == 1:
        return write(known[0])
    return " – ".join("?" if v is None else write(v) for v in shown.values())


def verdict_words(choice: PlanChoice, api_cost: Decimal) -> str:
    """The verdict as a sentence start: who wins the month, and by how much."""
    if choice.verdict == "over_limit":
        if choice.overage == "api_rates":
            return "Over its included usage: the rest is billed at API rates"
        if choice.overage == "none":
            return "Over its limit: it would stop before the month ends"
        return "Over its limit: the rest is billed extra or stops"
    if choice.verdict == "plan":
        return f"The plan: saves {usd(api_cost - choice.price)} a month"
    gap = choice.price - api_cost
    if gap == 0:
        return "Pay per token: the same price, and no commitment"
    return f"Pay per token: {usd(gap)} a month cheaper"


@dataclass(frozen=True)
class PlanLine:
    """One row of the section's table, every cell already in words."""

    plan: str
    name: str
    vendor: str
    price: str
    seats: int
    capacity: str
    breakeven: str
    covers: str
    verdict: str
    verdict_text: str
    note: str


@dataclass(frozen=True)
class SubscriptionSection:
    model: str
    name: str
    family: str
    unit: str  # "requests" or "conversations"
    volume: str
    api_cost: str
    per_unit: str
    lines: list[PlanLine]
    chart: Chart | None
    vendors: str  # who sells plans, said when none covers the model

    @property
    def unit_singular(self) -> str:
        return self.unit.removesuffix("s")


def _vendors_text(choices: Sequence[PlanChoice]) -> str:
    families: dict[str, list[str]] = {}
    for choice in choices:
        # the families of every plan in effect, by vendor, in the plans page's order
        found = families.setdefault(choice.vendor, [])
        for family in choice.families:
            label = FAMILY_LABELS.get(family, family)
            if label not in found:
                found.append(label)
    return "; ".join(
        f"{VENDOR_LABELS.get(vendor, vendor)} ({', '.join(labels)})"
        for vendor, labels in families.items()
    )


def pays_off(result: BreakEven) -> bool:
    """False when the plan stops covering before its break-even (at the mid estimate, or
    at every known one without a mid): it is never the cheaper way."""
    mid = result.plan_can_win["mid"]
    if mid is not None:
        return mid
    return any(v is not False for v in result.plan_can_win.values())


def _line(choice: PlanChoice, per_unit: BreakEven, api_cost: Decimal) -> PlanLine:
    even = _count(per_unit.breakeven_volume) if pays_off(per_unit) else NEVER
    return PlanLine(
        plan=choice.plan,
        name=choice.name,
        vendor=VENDOR_LABELS.get(choice.vendor, choice.vendor),
        price=usd(choice.price),
        seats=choice.seats,
        capacity=levels_text({lv: choice.capacity.capacity.at(lv) for lv in LEVELS}),
        breakeven=even,
        covers=levels_text(per_unit.covers_until, "count"),
        verdict=choice.verdict,
        verdict_text=verdict_words(choice, api_cost),
        note=choice.note,
    )


def subscription_section(found: Subscriptions, *, unit: str, volume: int) -> SubscriptionSection:
    """The section for a month of ``volume`` units (requests or conversations)."""
    per_unit = found.api_cost / volume if volume > 0 else Decimal(0)
    covering = found.covering
    lines, curves = [], []
    for choice in covering:
        result = breakeven(per_unit, choice.price, choice.capacity.capacity)
        lines.append(_line(choice, result, found.api_cost))
        even = result.breakeven_volume if pays_off(result) else None
        curves.append(PlanCurve(choice.name, choice.price, even, dict(result.covers_until)))
    chart = None
    if curves:
        chart = Chart(
            "breakeven",
            f"Subscription or pay-per-token for {found.name}",
            breakeven_figure(found.name, per_unit, curves, current=Decimal(volume), unit=unit),
            f"Monthly cost against {unit} per month: pay-per-token for {found.name} as a line "
            "from zero, each plan flat at its price until the band where it stops covering; "
            "the table has the same numbers.",
            f"Pay-per-token grows with the {unit}; a plan is flat until its capacity (pale "
            "band: low to high estimate, tick: mid). White dots: break-even.",
            wide=True,
        )
    return SubscriptionSection(
        model=found.model,
        name=found.name,
        family=found.family_label,
        unit=unit,
        volume=f"{volume:,}",
        api_cost=usd(found.api_cost),
        per_unit=usd(per_unit),
        lines=lines,
        chart=chart,
        vendors=_vendors_text(found.choices),
    )


def section_for_row(
    row: Row, *, requests: int, unit: str, volume: int, generation: Generation | None = None
) -> SubscriptionSection:
    """The section for the page's chosen model (its row holds its month on the API)."""
    found = described(provider=row.provider, model=row.model, name=row.name,
                      api_cost=row.monthly_cost, requests=requests, strategy=row.strategy,
                      generation=generation)  # fmt: skip
    return subscription_section(found, unit=unit, volume=volume)
