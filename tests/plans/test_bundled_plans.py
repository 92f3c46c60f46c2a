"""The bundled plans: loaded once, idempotent, every number sourced, the dated changes."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from django.core.management import call_command

from apps.plans.models import Plan, PlanVersion, PlanWindow, VersionStatus
from apps.plans.selectors import plan_histories
from apps.plans.services import PlanDataError, plans_load, read_plans_file

pytestmark = pytest.mark.django_db


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def terms(slug: str, when: str):
    return next(h for h in plan_histories() if h.plan == slug).at(utc(when))


def test_every_plan_of_the_fact_sheet_is_bundled_and_published():
    slugs = set(Plan.objects.values_list("slug", flat=True))
    assert {"claude-pro", "claude-max-5x", "claude-max-20x", "claude-team-standard",
            "claude-team-premium", "claude-enterprise", "chatgpt-plus", "chatgpt-pro-5x",
            "chatgpt-pro-20x", "chatgpt-pro-500", "chatgpt-business", "google-ai-plus",
            "google-ai-pro", "google-ai-ultra-5x", "google-ai-ultra", "copilot-pro",
            "copilot-pro-plus", "copilot-max", "copilot-business", "copilot-enterprise",
            "cursor-pro", "cursor-pro-plus", "cursor-ultra", "cursor-teams"} <= slugs  # fmt: skip
    assert not PlanVersion.objects.exclude(status=VersionStatus.PUBLISHED).exists()


def test_loading_again_changes_nothing():
    before = PlanVersion.objects.count()
    call_command("load_plans", verbosity=0)
    assert PlanVersion.objects.count() == before


def test_every_bundled_number_has_a_source_and_a_date():
    for version in PlanVersion.objects.all():
        assert version.source_url and version.checked_on
    for window in PlanWindow.objects.all():
        for level in ("low", "mid", "high"):
            if getattr(window, level) is not None:
                assert getattr(window, f"{level}_source_url") and getattr(window, f"{level}_as_of")
        if window.usd_per_unit is not None:
            assert window.usd_per_unit_source_url


def test_claude_max_20x_5_hour_capacity_doubles_on_2026_05_06():
    # measured before the doubling: $66 (rhombus), $200 (dui gist), $363 (ccmeter); x 2 after
    before = terms("claude-max-20x", "2026-05-05T23:59:59").windows_of("session_5h", "claude-code")[
        0
    ]
    after = terms("claude-max-20x", "2026-05-06T00:00:00").windows_of("session_5h", "claude-code")[
        0
    ]
    assert [before.usd(lv) for lv in ("low", "mid", "high")] == [D(66), D(200), D(363)]
    assert [after.usd(lv) for lv in ("low", "mid", "high")] == [D(132), D(400), D(726)]


def test_the_other_dated_changes():
    # ChatGPT Business cut by $5 on 2026-04-02
    assert terms("chatgpt-business", "2026-04-01T12:00").monthly_price == D("30")
    assert terms("chatgpt-business", "2026-04-02T00:00").monthly_price == D("25")
    # Google AI Ultra from $249.99 to $199.99 at I/O 2026
    assert terms("google-ai-ultra", "2026-05-18T23:00").monthly_price == D("249.99")
    assert terms("google-ai-ultra", "2026-05-19T00:00").monthly_price == D("199.99")
    # OpenAI Pro limits doubled on 2026-10-29: GPT-5.5 local messages 300-1,600 -> 600-3,200
    pro = [terms("chatgpt-pro-20x", when).windows_of("session_5h", "codex")[0]
           for when in ("2026-10-28T00:00", "2026-10-29T00:00")]  # fmt: skip
    assert [(w.amount("low"), w.amount("high")) for w in pro] == [
        (D(300), D(1600)),
        (D(600), D(3200)),
    ]
    # Copilot usage-based from 2026-06-01: 300 premium requests -> 1,500 AI Credits of $0.01
    legacy = terms("copilot-pro", "2026-05-31T00:00").windows[0]
    credits = terms("copilot-pro", "2026-06-01T00:00").windows[0]
    assert (legacy.unit, legacy.amount("mid"), legacy.usd("mid")) == ("requests", D(300), None)
    assert (credits.unit, credits.amount("mid"), credits.usd("mid")) == ("credits", D(1500), D(15))
    # Claude's Agent SDK credit from 2026-06-15, only for the Agent SDK
    assert not terms("claude-max-20x", "2026-06-14T00:00").windows_of("monthly_pool", "agent-sdk")
    [sdk] = terms("claude-max-20x", "2026-06-15T00:00").windows_of("monthly_pool", "agent-sdk")
    assert sdk.usd("mid") == D(200)
    assert not terms("claude-max-20x", "2026-06-15T00:00").windows_of("monthly_pool", "claude-code")


def test_capacity_without_a_published_dollar_size_stays_in_its_unit():
    window = terms("claude-pro", "2026-07-01T00:00").windows_of("session_5h", "claude-code")[0]
    assert window.unit == "prompts" and (window.amount("low"), window.amount("high")) == (
        D(20),
        D(80),
    )
    assert window.usd("low") is None and not window.dollars_known


def test_a_bundled_change_to_a_published_version_is_a_conflict_and_writes_nothing():
    data = copy.deepcopy(read_plans_file())
    plan = next(p for p in data["plans"] if p["slug"] == "cursor-pro")
    plan["versions"][0]["monthly_price_usd"] = "21"
    data["plans"].append({"slug": "new-plan", "vendor": "cursor", "name": "New", "versions": []})
    with pytest.raises(PlanDataError, match="already has different published terms"):
        plans_load(data)
    assert not Plan.objects.filter(slug="new-plan").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"monthly_price_usd": 20.5}, "decimal string"),
        ({"source": "nowhere"}, "unknown source"),
        ({"harnesses": ["api"]}, "no plan covers the API"),
        ({"windows": [{"kind": "daily", "unit": "usd"}]}, "kind: must be one of"),
        (
            {
                "windows": [
                    {
                        "kind": "weekly",
                        "unit": "usd",
                        "low": {"amount": "5", "source": "rhombus_limits"},
                        "high": {"amount": "4", "source": "rhombus_limits"},
                    }
                ]
            },
            "must not decrease",
        ),  # fmt: skip
    ],
)
def test_bad_plan_data_is_refused_naming_the_field(change, message):
    data = copy.deepcopy(read_plans_file())
    data["plans"] = [{"slug": "bad", "vendor": "cursor", "name": "Bad", "versions": [
        {**data["plans"][0]["versions"][0], "effective_from": "2030-01-01T00:00:00Z", **change}]}]  # fmt: skip
    with pytest.raises(PlanDataError, match=message):
        plans_load(data)
