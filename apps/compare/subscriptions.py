"""Subscription or pay-per-token: a workload's month on one model against every plan.

Reads the plans in effect (``apps.plans.selectors.plan_histories``) and, for an imported
workload, its real windows (``apps.plans.history.workload_history``); the rules are the
pure ``apps.plans.breakeven`` (docs/plans.md, "Break-even"). The page section
(``subscription_page``) and ``POST /api/v1/breakeven`` (``breakeven_api``) both read here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from apps.plans.breakeven import PlanChoice, imported_choice, plan_choice
from apps.plans.history import workload_history
from apps.plans.selectors import plan_histories
from apps.plans.terms import FAMILY_BY_PROVIDER, FAMILY_LABELS, PlanHistory, PlanTerms
from apps.rating.adapter import Generation
from apps.rating.engine import MONEY_CONTEXT, ZERO
from apps.usage.models import Workload

# The page reads plans once a minute at most (as cache policies, ``sources``): a published
# version shows within a minute; a scheduled one takes effect on time, as every version is read.
PLANS_MAX_AGE = 60.0
ASSUMPTIONS = (
    "requests spread evenly over a 30-day month, so a rolling 5-hour window holds 5/720 of "
    "the month (its capacity x 144) and a week 7/30 of it (its capacity x 30/7); a monthly "
    "pool or estimate holds the month itself",
    "the usage goes through the plan's own apps; a window that counts one app only (an SDK "
    "credit, video credits) is left out",
    "a plan's price is monthly billing at its minimum number of seats",
    "the API month is the model's cheapest caching strategy at list prices in effect now",
)
IMPORTED_ASSUMPTIONS = (
    "each 5-hour session, ISO week and calendar month of the log is judged against the plan "
    "version in effect then (as /plans/windows/); a plan is over its limit when any of them "
    "went past its mid estimate",
    "the API month is the log's mean calendar month, each request at the prices of its time",
    "a plan's price is today's, monthly billing at its minimum number of seats",
)


def _per(amount: Decimal, count: int) -> Decimal:
    return MONEY_CONTEXT.divide(amount, Decimal(count)) if count > 0 else ZERO


def plans_in_effect(when: datetime, generation: Generation | None = None) -> list[PlanTerms]:
    """The version of every plan in effect at ``when``, in the plans page's order.

    With a ``generation`` (the page), the plans kept in this process for up to a minute;
    without (the API), read now.
    """
    histories: list[PlanHistory] = (
        plan_histories()
        if generation is None
        else generation.local("compare-plan-histories", plan_histories, max_age=PLANS_MAX_AGE)
    )
    found = (history.at(when) for history in histories)
    return [terms for terms in found if terms is not None]


def _covering_first(choices: list[PlanChoice]) -> list[PlanChoice]:
    return sorted(choices, key=lambda c: not c.covers_model)  # stable: page order within


@dataclass(frozen=True)
class Subscriptions:
    """A described month of one model against every plan in effect, covering plans first."""

    provider: str
    model: str
    name: str
    api_cost: Decimal  # the month on the API, cheapest strategy
    requests: int  # requests a month
    choices: list[PlanChoice]
    strategy: str = ""
    when: datetime | None = None

    @property
    def family(self) -> str | None:
        return FAMILY_BY_PROVIDER.get(self.provider)

    @property
    def family_label(self) -> str:
        family = self.family
        return FAMILY_LABELS.get(family, family) if family else self.provider

    @property
    def cost_per_request(self) -> Decimal:
        return _per(self.api_cost, self.requests)

    @property
    def covering(self) -> list[PlanChoice]:
        return [c for c in self.choices if c.covers_model]


def described(
    *,
    provider: str,
    model: str,
    name: str,
    api_cost: Decimal,
    requests: int,
    strategy: str = "",
    when: datetime | None = None,
    generation: Generation | None = None,
) -> Subscriptions:
    """Every plan in effect against a month of ``requests`` costing ``api_cost`` on the API."""
    when = when or timezone.now()
    family = FAMILY_BY_PROVIDER.get(provider)
    per_request = _per(api_cost, requests)
    choices = [
        plan_choice(terms, family=family, api_cost=api_cost, cost_per_request=per_request)
        for terms in plans_in_effect(when, generation)
    ]
    return Subscriptions(provider, model, name, api_cost, requests, _covering_first(choices),
                         strategy, when)  # fmt: skip


@dataclass(frozen=True)
class ImportedSubscriptions:
    """An imported log's mean month against every plan in effect, judged by its windows."""

    models: list[str]
    months: int
    requests: int  # requests with their own time, every month together
    api_total: Decimal
    unpriced_requests: int
    harness: str
    choices: list[PlanChoice] = field(default_factory=list)

    @property
    def api_monthly_cost(self) -> Decimal:
        return _per(self.api_total, self.months)

    @property
    def requests_per_month(self) -> Decimal:
        return _per(Decimal(self.requests), self.months)

    @property
    def cost_per_request(self) -> Decimal:
        return _per(self.api_total, self.requests)


def imported(workload: Workload, when: datetime | None = None) -> ImportedSubscriptions | None:
    """The workload's windows against every plan in effect; None without timed requests."""
    history = workload_history(workload)
    if history.empty:
        return None
    when = when or timezone.now()
    months = history.groups.months.windows
    requests: dict[str, int] = {}
    for month in months:
        for model, count in month.models.items():
            requests[model] = requests.get(model, 0) + count
    result = ImportedSubscriptions(
        models=sorted(requests, key=lambda m: (-requests[m], m)),
        months=len(months),
        requests=sum(requests.values()),
        api_total=history.api_total,
        unpriced_requests=history.unpriced_requests,
        harness=history.harness,
    )
    judged = {v.plan: v for v in history.verdicts}
    for terms in plans_in_effect(when):
        result.choices.append(
            imported_choice(
                terms,
                judged.get(terms.plan),
                api_monthly_cost=result.api_monthly_cost,
                cost_per_request=result.cost_per_request,
                harness=history.harness,
            )
        )
    result.choices.sort(key=lambda c: not c.covers_model)
    return result
