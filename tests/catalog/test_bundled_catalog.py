"""The bundled catalog: coverage, sources, dated history, idempotent loading, bad files."""

from __future__ import annotations

import json
from decimal import Decimal as D
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.catalog.models import LanguageModel, PriceVersion, Provider
from apps.catalog.selectors import resolve_model, version_at
from apps.catalog.services.catalog_load import BUNDLED_CATALOG
from apps.rating.adapter import published_book
from apps.rating.engine import UsageRecord, rate_record

from .factories import utc

pytestmark = pytest.mark.django_db

PROVIDERS = {"anthropic", "openai", "google", "deepseek", "xai", "mistral"}


def rates(slug: str, when: str) -> dict[str, D]:
    version = version_at(LanguageModel.objects.get(slug=slug), utc(when))
    assert version is not None, f"{slug} has no version at {when}"
    return {
        r.meter: r.price for r in version.rates.all() if r.context == "base" and not r.service_tier
    }


def test_it_holds_at_least_60_models_across_the_six_providers():
    assert set(Provider.objects.values_list("slug", flat=True)) >= PROVIDERS
    assert LanguageModel.objects.count() >= 60
    for slug in PROVIDERS:
        assert LanguageModel.objects.filter(provider__slug=slug).exists(), slug


def test_every_published_version_has_a_source_and_a_checked_date():
    versions = PriceVersion.objects.filter(status="published")
    assert versions.count() >= 60
    assert not versions.filter(source_url="").exists()
    assert not versions.filter(checked_on__isnull=True).exists()
    assert all(v.startswith("https://") for v in versions.values_list("source_url", flat=True))


def test_every_model_has_input_and_output_prices():
    for model in LanguageModel.objects.all():
        first = model.versions.order_by("effective_from").first()
        assert first is not None, model.slug
        meters = set(first.rates.values_list("meter", flat=True))
        assert {"input", "output"} <= meters, model.slug


@pytest.mark.parametrize(
    ("slug", "when", "expected"),
    [
        # Sonnet 5.5 cache reads cut from $0.20 to $0.10 on 2026-10-07
        ("claude-sonnet-5-5", "2026-10-06T23:59:59Z", {"cache_read": D("0.2")}),
        ("claude-sonnet-5-5", "2026-10-07T00:00:00Z", {"cache_read": D("0.1")}),
        # GPT-5.6 Luna was cut on 2026-07-30 from $1 / $6 to $0.20 / $1.20
        ("gpt-5.6-luna", "2026-07-29T12:00:00Z", {"input": D("1"), "output": D("6")}),
        ("gpt-5.6-luna", "2026-07-30T00:00:00Z", {"input": D("0.2"), "output": D("1.2")}),
        # Gemini 4 Argon's scheduled rise on 2026-12-01
        ("gemini-4-argon", "2026-11-30T23:59:59Z", {"input": D("2"), "output": D("10")}),
        ("gemini-4-argon", "2026-12-01T00:00:00Z", {"input": D("4"), "output": D("20")}),
        # DeepSeek switched to peak/off-peak at 2026-08-16 16:00 UTC (peak list price $0.44 in)
        ("deepseek-flash", "2026-08-16T15:59:59Z", {"input": D("0.14"), "output": D("0.28")}),
        ("deepseek-flash", "2026-08-16T16:00:00Z", {"input": D("0.44"), "output": D("1.32")}),
        ("deepseek-flash", "2026-11-15T00:00:00Z", {"input": D("0.3"), "output": D("1.2")}),
        # Claude Opus 4.6 launched 2026-02-05 at $5 / $25 with 1h writes at $10
        ("claude-opus-4-6", "2026-02-05T00:00:00Z", {"input": D("5"), "cache_write_1h": D("10")}),
    ],
)
def test_history_gives_the_right_version_per_instant(slug, when, expected):
    got = rates(slug, when)
    assert {k: got.get(k) for k in expected} == expected


def test_deepseek_off_peak_is_half_of_peak_at_the_band_edges():
    book = published_book()

    def cost(hhmm: str) -> D:
        record = UsageRecord(
            provider="deepseek",
            model="deepseek-flash",
            timestamp=utc(f"2026-11-18T{hhmm}:00Z"),
            input_tokens=1_000_000,
        )
        sheet = book.sheet_at("deepseek-flash", record.timestamp)
        return rate_record(record, sheet).total

    # 1M uncached input: peak $0.30, off-peak $0.15
    assert [cost(t) for t in ("00:59", "01:00", "03:59", "04:00", "06:00", "10:00")] == [
        D("0.15"),
        D("0.3"),
        D("0.3"),
        D("0.15"),
        D("0.3"),
        D("0.15"),
    ]


def test_dated_and_prefixed_ids_resolve_to_catalog_models():
    assert resolve_model("claude-sonnet-4-5-20250929").slug == "claude-sonnet-4-5"
    assert resolve_model("anthropic/claude-sonnet-4-5").slug == "claude-sonnet-4-5"
    assert resolve_model("claude-haiku-4-5-20251001").slug == "claude-haiku-4-5"
    assert resolve_model("claude haiku 4.5").slug == "claude-haiku-4-5"
    assert resolve_model("gpt-9-imaginary") is None


def test_reloading_the_bundled_catalog_changes_nothing():
    before = PriceVersion.objects.count()
    out = StringIO()
    call_command("load_catalog", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["changed"] is False
    assert report["versions_created"] == 0 and report["versions_unchanged"] == before


def test_a_bundled_file_that_would_rewrite_history_is_refused_whole(tmp_path):
    data = json.loads(BUNDLED_CATALOG.read_text())
    model = data["providers"][0]["models"][0]
    model["versions"][0]["rates"]["input"] = "999"
    data["providers"][0]["models"].append(
        {
            "slug": "brand-new-model-x",
            "name": "X",
            "aliases": [],
            "versions": [
                {
                    "effective_from": "2026-01-01T00:00:00Z",
                    "source_url": "https://example.com",
                    "checked_on": "2026-01-01",
                    "rates": {"input": "1", "output": "2"},
                }
            ],
        }
    )
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(data))
    with pytest.raises(CommandError, match="already has a different published version"):
        call_command("load_catalog", str(path), stdout=StringIO())
    assert not LanguageModel.objects.filter(
        slug="brand-new-model-x"
    ).exists()  # nothing half-written


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "invalid JSON"),
        ('{"providers": "nope"}', "providers"),
        (
            '{"providers": [{"slug": "p", "models": [{"slug": "m", "versions": [{"effective_from": '
            '"2026-01-01T00:00:00Z", "rates": {"input": "-1", "output": "1"}}]}]}]}',
            "rates.input: must not be negative",
        ),
    ],
)
def test_a_malformed_catalog_file_names_the_problem(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(CommandError, match=message):
        call_command("load_catalog", str(path), stdout=StringIO())
