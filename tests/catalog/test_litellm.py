"""LiteLLM price file import and export (apps/catalog/litellm_mapping.py, services/litellm.py).

Amounts: LiteLLM writes USD per token, the catalog USD per million tokens (MTok), so a
per-token price times 1,000,000 is the catalog price: 3e-06 per token = $3 per MTok.
"""

from __future__ import annotations

import gzip
import io
import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from http import HTTPStatus
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from apps.catalog.litellm_mapping import (
    COST_KEY,
    litellm_entry,
    map_entry,
    map_file,
    mtok_to_per_token,
    parse_litellm_json,
    per_token_to_mtok,
)
from apps.catalog.models import LanguageModel, ModelAlias, PriceVersion, Provider, VersionStatus
from apps.catalog.selectors import resolve_model
from apps.catalog.services.litellm import (
    LITELLM_SOURCE_URL,
    _CatalogIndex,
    litellm_export,
    litellm_import,
)
from apps.catalog.services.versions import (
    version_create,
    version_publish,
    version_validate_for_publish,
    versions_bulk_create,
)
from apps.catalog.version_data import CatalogDataError, clean_version_data, version_to_data

DATA = Path(__file__).resolve().parents[1] / "data" / "litellm"
SUBSET = DATA / "model_prices_subset.json"
FULL_FILE = DATA / "model_prices_full.json.gz"  # provenance in tests/data/litellm/README.md
WHEN = datetime(2026, 8, 1, tzinfo=UTC)


def subset() -> dict:
    return json.loads(SUBSET.read_text())


def acme(**extra) -> dict:
    """A made-up chat model, so no bundled catalog entry can collide with it."""
    return {
        "litellm_provider": "acme",
        "mode": "chat",
        "input_cost_per_token": 2e-06,
        "output_cost_per_token": 8e-06,
        "max_input_tokens": 128000,
        "max_output_tokens": 16000,
        **extra,
    }


def counts() -> tuple[int, int, int]:
    return PriceVersion.objects.count(), LanguageModel.objects.count(), Provider.objects.count()


# --------------------------------------------------------------------------- unit conversion


def test_it_turns_dollars_per_token_into_exact_dollars_per_mtok():
    # 3e-06 per token x 1,000,000 = $3 per MTok, exactly, with no float noise or exponent
    assert per_token_to_mtok(3e-06, "f") == (Decimal("3"), False)
    assert str(per_token_to_mtok(3e-06, "f")[0]) == "3"
    # 3.75e-06 = $3.75; 1.25e-07 = $0.125; 0 stays 0; 1e-3 per token = $1,000 per MTok
    assert per_token_to_mtok(3.75e-06, "f")[0] == Decimal("3.75")
    assert per_token_to_mtok(1.25e-07, "f")[0] == Decimal("0.125")
    assert per_token_to_mtok(0, "f")[0] == Decimal("0")
    assert str(per_token_to_mtok(1e-3, "f")[0]) == "1000"


def test_it_writes_dollars_per_mtok_back_as_litellm_floats():
    # $3 per MTok / 1,000,000 = 3e-06 per token, written by json exactly as LiteLLM does
    assert mtok_to_per_token(Decimal("3")) == 3e-06
    assert json.dumps(mtok_to_per_token(Decimal("3"))) == "3e-06"
    assert json.dumps(mtok_to_per_token(Decimal("22.5"))) == "2.25e-05"


def test_it_rounds_prices_finer_than_the_catalog_stores_and_says_so():
    # Databricks' 2.9999900000000002e-06 = $2.9999900000000002 per MTok: 16 decimals, the
    # catalog keeps 10, so it is stored as $2.99999 and flagged
    assert per_token_to_mtok(2.9999900000000002e-06, "f") == (Decimal("2.99999"), True)


# --------------------------------------------------------------------------- key families


def test_it_maps_anthropic_base_cache_and_long_context_prices():
    entry = map_entry("claude-sonnet-4-5", subset()["claude-sonnet-4-5"])
    # input 3e-06 = $3; output 1.5e-05 = $15; cache read 3e-07 = $0.30;
    # cache_creation 3.75e-06 = $3.75 (the 5-minute write); _above_1hr 6e-06 = $6
    assert entry.data["rates"] == {
        "input": "3",
        "output": "15",
        "cache_read": "0.3",
        "cache_write_5m": "3.75",
        "cache_write_1h": "6",
    }
    # _above_200k_tokens: prompts over 200,000 tokens (exclusive) pay $6 in, $22.50 out,
    # $0.60 cache read, $7.50 5m write, $12 1h write (1.2e-05 per token)
    assert entry.data["long_context"] == {
        "threshold": 200000,
        "inclusive": False,
        "rates": {
            "input": "6",
            "output": "22.5",
            "cache_read": "0.6",
            "cache_write_5m": "7.5",
            "cache_write_1h": "12",
        },
    }
    assert (entry.context_window, entry.max_output_tokens) == (200000, 64000)


def test_it_maps_openai_cache_writes_to_30_minutes_and_tier_prices():
    entry = map_entry("gpt-5.6", subset()["gpt-5.6"])
    # cache_creation 6.25e-06 = $6.25 = 1.25 x the $5 input, OpenAI's 30-minute write
    assert entry.data["rates"] == {
        "input": "5",
        "output": "30",
        "cache_read": "0.5",
        "cache_write_30m": "6.25",
    }
    assert entry.data["tier_rates"] == {
        # _batches: 2.5e-06 = $2.50 in, 1.5e-05 = $15 out (half of list)
        "batch": {"input": "2.5", "output": "15"},
        # _flex: half of list, cache write 3.125e-06 = $3.125
        "flex": {"input": "2.5", "output": "15", "cache_read": "0.25", "cache_write_30m": "3.125"},
        # _priority: 1e-05 = $10 in, 6e-05 = $60 out, twice list
        "priority": {"input": "10", "output": "60", "cache_read": "1", "cache_write_30m": "12.5"},
    }
    # _above_272k_tokens: 1e-05 = $10 in, 4.5e-05 = $45 out
    assert entry.data["long_context"]["threshold"] == 272000
    assert entry.data["long_context"]["rates"]["output"] == "45"
    # regional_processing_uplift_multiplier_{eu,us} 1.1 = 10% more for data residency
    assert entry.data["regions"] == {"eu": "1.1", "us": "1.1"}
    assert entry.unknown == []


def test_it_maps_provider_specific_entry_to_regions_and_the_fast_tier():
    entry = map_entry("claude-opus-4-6", subset()["claude-opus-4-6"])
    # {"us": 1.1, "fast": 6.0}: US-only inference costs 1.1x, fast mode 6x
    assert entry.data["regions"] == {"us": "1.1"}
    assert entry.data["tiers"] == {"fast": "6"}


def test_it_reports_provider_specific_values_that_are_not_multipliers():
    entry = map_entry("amazon.titan-embed-text-v2:0", subset()["amazon.titan-embed-text-v2:0"])
    assert entry.unknown == ["provider_specific_entry.bedrock_invocation_schema"]


def test_it_reads_deepseek_cache_hit_prices_as_cache_reads():
    # input_cost_per_token_cache_hit 1.4e-07 = $0.14 per MTok cache read
    entry = map_entry("deepseek/deepseek-r1", subset()["deepseek/deepseek-r1"])
    assert entry.data["rates"]["cache_read"] == "0.14"
    assert entry.unknown == []
    clash = map_entry(
        "x",
        acme(cache_read_input_token_cost=1e-07, input_cost_per_token_cache_hit=2e-07),
    )
    assert clash.data["rates"]["cache_read"] == "0.1"
    assert clash.unknown == ["input_cost_per_token_cache_hit"]


def test_it_reports_unmapped_cost_keys_and_ignores_known_non_price_keys():
    entry = map_entry("gemini/gemini-2.5-pro", subset()["gemini/gemini-2.5-pro"])
    # long-context prices of the priority tier have no place in the catalog (long rates
    # are standard tier only), nor have per-query search costs; rpm, tpm, source and
    # supports_* are not prices
    assert sorted(entry.unknown) == [
        "input_cost_per_token_above_200k_tokens_priority",
        "output_cost_per_token_above_200k_tokens_priority",
        "search_context_cost_per_query",
    ]
    odd = map_entry("x", acme(citation_cost_per_token=1e-06, brand_new_field=True))
    assert odd.unknown == ["citation_cost_per_token", "brand_new_field"]


def test_it_keeps_one_long_context_threshold_and_reports_the_others():
    entry = map_entry(
        "x",
        acme(
            input_cost_per_token_above_128k_tokens=4e-06,
            input_cost_per_token_above_200k_tokens=6e-06,
        ),
    )
    assert entry.data["long_context"]["threshold"] == 128000
    assert entry.data["long_context"]["rates"] == {"input": "4"}
    assert entry.unknown == ["input_cost_per_token_above_200k_tokens"]


def test_it_skips_entries_that_are_not_priced_text_models():
    mapped = {m.key: m.skip_reason for m in map_file(subset())}
    assert "sample_spec" not in mapped and "last_updated" not in mapped
    assert mapped["amazon.titan-embed-text-v2:0"] == "mode embedding"
    embedding = {"litellm_provider": "acme", "input_cost_per_token": 1e-07}
    assert map_entry("acme-embed", embedding).skip_reason == "no output price"
    assert mapped["1024-x-1024/50-steps/stability.stable-diffusion-xl-v1"] == "no token prices"
    assert mapped["text-embedding-3-small"] == "mode embedding"
    assert mapped["claude-sonnet-4-5"] is None


# --------------------------------------------------------------------------- malformed files


def test_it_refuses_a_file_that_is_not_json():
    with pytest.raises(CatalogDataError, match="invalid JSON at line 1"):
        parse_litellm_json(b"{not json")


def test_it_refuses_a_file_that_is_not_an_object():
    with pytest.raises(CatalogDataError, match="expected a JSON object"):
        parse_litellm_json(b"[1, 2]")


def test_it_refuses_an_entry_that_is_not_an_object():
    with pytest.raises(CatalogDataError, match='"acme-chat-1": must be an object, got list'):
        map_file({"acme-chat-1": [1]})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1e-06, r'"acme-bad"\.output_cost_per_token: must not be negative, got -1e-06'),
        ("abc", r"\"acme-bad\"\.output_cost_per_token: must be a number .*got 'abc'"),
        (True, r'"acme-bad"\.output_cost_per_token: must be a number'),
    ],
)
@pytest.mark.django_db
def test_a_bad_price_names_the_entry_and_field_and_writes_nothing(value, message):
    before = counts()
    data = {"acme-good": acme(), "acme-bad": acme(output_cost_per_token=value)}
    with pytest.raises(CatalogDataError) as error:
        litellm_import(data=data, effective_from=WHEN, publish=True)
    assert re.search(message, " ".join(error.value.messages))
    assert counts() == before


@pytest.mark.django_db
def test_the_command_refuses_a_malformed_file_and_writes_nothing(tmp_path):
    before = counts()
    bad = tmp_path / "prices.json"
    bad.write_text(json.dumps({"acme-good": acme(), "acme-bad": acme(input_cost_per_token="abc")}))
    with pytest.raises(
        CommandError, match=r'(?s)nothing was written.*"acme-bad"\.input_cost_per_token'
    ):
        call_command("import_litellm", str(bad), "--publish")
    not_json = tmp_path / "broken.json"
    not_json.write_text("{")
    with pytest.raises(CommandError, match="broken.json: invalid JSON"):
        call_command("import_litellm", str(not_json))
    assert counts() == before


# --------------------------------------------------------------------------- import


@pytest.mark.django_db
def test_import_creates_draft_import_versions_with_the_file_date():
    data = {"last_updated": "2026-07-24T18:23:43.215560+00:00", "Acme-Chat-1": acme()}
    report = litellm_import(data=data, effective_from=WHEN)
    assert (report.versions_created, report.models_created, report.versions_published) == (1, 1, 0)
    model = LanguageModel.objects.get(slug="acme-chat-1")
    assert (model.provider.slug, model.context_window, model.max_output_tokens) == (
        "acme",
        128000,
        16000,
    )
    version = model.versions.get()
    assert version.status == VersionStatus.DRAFT
    assert (version.source_kind, version.source_url) == ("import", LITELLM_SOURCE_URL)
    assert version.checked_on == date(2026, 7, 24)
    assert version.effective_from == WHEN
    # 2e-06 = $2 in, 8e-06 = $8 out
    assert version_to_data(version)["rates"] == {"input": Decimal("2"), "output": Decimal("8")}
    assert report.imported == {"Acme-Chat-1": "acme-chat-1"}


@pytest.mark.django_db
def test_import_publishes_when_asked():
    report = litellm_import(data={"acme-chat-1": acme()}, effective_from=WHEN, publish=True)
    version = PriceVersion.objects.get(model__slug="acme-chat-1")
    assert report.versions_published == 1
    assert version.status == VersionStatus.PUBLISHED and version.published_at is not None
    assert version_validate_for_publish(version) == []


@pytest.mark.django_db
def test_reimporting_the_same_file_changes_nothing():
    data = subset()
    first = litellm_import(data=data, effective_from=WHEN, publish=True)
    before = counts()
    again = litellm_import(data=data, effective_from=WHEN, publish=True)
    assert counts() == before
    assert again.versions_created == 0 and again.models_created == 0
    assert again.unchanged == first.versions_created + first.unchanged


@pytest.mark.django_db
def test_reimporting_drafts_at_an_earlier_date_changes_nothing_either():
    litellm_import(data={"acme-chat-1": acme()}, effective_from=WHEN)
    report = litellm_import(
        data={"acme-chat-1": acme()}, effective_from=datetime(2026, 1, 1, tzinfo=UTC)
    )
    assert (report.unchanged, report.unchanged_drafts, report.versions_created) == (1, 1, 0)


@pytest.mark.django_db
def test_a_price_change_is_a_new_version():
    litellm_import(data={"acme-chat-1": acme()}, effective_from=WHEN, publish=True)
    later = datetime(2026, 9, 1, tzinfo=UTC)
    report = litellm_import(
        data={"acme-chat-1": acme(output_cost_per_token=6e-06)}, effective_from=later, publish=True
    )
    assert report.versions_created == 1
    newest = PriceVersion.objects.filter(model__slug="acme-chat-1").latest("effective_from")
    assert version_to_data(newest)["rates"]["output"] == Decimal("6")


@pytest.mark.django_db
def test_a_clash_with_published_prices_at_the_same_instant_is_an_error_not_a_rewrite():
    litellm_import(data={"acme-chat-1": acme()}, effective_from=WHEN, publish=True)
    report = litellm_import(
        data={"acme-chat-1": acme(output_cost_per_token=6e-06), "acme-chat-2": acme()},
        effective_from=WHEN,
        publish=True,
    )
    assert report.versions_created == 1
    assert report.errors and "acme-chat-1" in report.errors[0]
    assert "acme-chat-1" not in report.imported


@pytest.fixture
def acme_catalog(db):
    provider = Provider.objects.create(slug="acme", name="Acme")
    # dated snapshot ids resolve without an alias only for Claude-style ids (rating/book.py)
    model = LanguageModel.objects.create(provider=provider, slug="claude-acme-2", name="Acme 2")
    ModelAlias.objects.create(alias="acme-chat-two", model=model)
    return model


def test_dated_and_aliased_ids_update_the_existing_first_party_model(acme_catalog):
    data = {
        "claude-acme-2-20260101": acme(output_cost_per_token=9e-06),
        "acme-chat-two": acme(output_cost_per_token=7e-06),
    }
    report = litellm_import(data=data, effective_from=WHEN)
    # both resolve to claude-acme-2; the alias spelling is an exact match, so it wins
    assert report.imported == {"acme-chat-two": "claude-acme-2"}
    assert report.skipped == {"another entry prices the same model": 1}
    assert report.models_created == 0
    version = acme_catalog.versions.get()
    assert version_to_data(version)["rates"]["output"] == Decimal("7")


def test_a_reseller_listing_becomes_a_model_of_its_own(acme_catalog):
    data = {
        "claude-acme-2": acme(),
        "openrouter/acme/claude-acme-2": acme(litellm_provider="openrouter"),
    }
    report = litellm_import(data=data, effective_from=WHEN)
    assert report.imported == {
        "claude-acme-2": "claude-acme-2",
        "openrouter/acme/claude-acme-2": "openrouter/acme/claude-acme-2",
    }
    assert (
        LanguageModel.objects.get(slug="openrouter/acme/claude-acme-2").provider.slug
        == "openrouter"
    )


def test_only_known_updates_only_models_already_in_the_catalog(acme_catalog):
    data = {"claude-acme-2": acme(), "acme-chat-3": acme()}
    report = litellm_import(data=data, effective_from=WHEN, only_known=True)
    assert report.imported == {"claude-acme-2": "claude-acme-2"}
    assert report.skipped == {"not in catalog": 1}
    assert not LanguageModel.objects.filter(slug="acme-chat-3").exists()


@pytest.mark.django_db
def test_the_provider_filter_keeps_only_the_named_providers():
    data = {"acme-chat-1": acme(), "other/chat": acme(litellm_provider="other")}
    report = litellm_import(data=data, effective_from=WHEN, providers={"acme"})
    assert list(report.imported) == ["acme-chat-1"]
    assert report.skipped == {"provider not selected": 1}


def test_the_in_memory_resolver_agrees_with_resolve_model(acme_catalog):
    index = _CatalogIndex.load()
    for raw in ["claude-acme-2", "ACME-CHAT-TWO", "claude-acme-2-20260101", "vendor/claude-acme-2"]:
        assert index.resolve(raw)[0] == resolve_model(raw).pk
    assert index.resolve("nothing-like-it") == (None, "")
    assert resolve_model("nothing-like-it") is None


@pytest.mark.django_db
def test_the_bulk_writer_stores_what_version_create_stores():
    provider = Provider.objects.create(slug="acme", name="Acme")
    one = LanguageModel.objects.create(provider=provider, slug="acme-one", name="one")
    two = LanguageModel.objects.create(provider=provider, slug="acme-two", name="two")
    raw = {
        "effective_from": "2026-08-01T00:00:00Z",
        "source_url": "https://example.com/prices",
        "source_kind": "import",
        "checked_on": "2026-07-24",
        "notes": "both paths",
        "rates": {"input": "3", "output": "15", "cache_read": "0.3", "cache_write_5m": "3.75"},
        "long_context": {"threshold": 200000, "rates": {"input": "6"}, "output_multiplier": "1.5"},
        "tiers": {"batch": "0.5", "fast": "6"},
        "tier_rates": {"priority": {"input": "6", "output": "30"}},
        "regions": {"us": "1.1"},
        "time_bands": [{"label": "night", "start": "00:00", "end": "06:00", "multiplier": "0.5"}],
        "fees": {"web_search": "10"},
        "storage_per_mtok_hour": "4.5",
    }
    data = clean_version_data(raw, "test")
    reference = version_publish(version=version_create(model=one, data=data))
    [bulk] = versions_bulk_create(items=[(two, data)], publish=True)
    bulk = PriceVersion.objects.get(pk=bulk.pk)
    assert version_to_data(bulk) == version_to_data(reference)
    assert bulk.status == reference.status == VersionStatus.PUBLISHED
    assert version_validate_for_publish(bulk) == []


# --------------------------------------------------------------------------- export


@pytest.fixture
def sonnet_like(db):
    provider = Provider.objects.create(slug="acme", name="Acme")
    model = LanguageModel.objects.create(
        provider=provider,
        slug="acme-sonnet",
        name="Acme Sonnet",
        context_window=200000,
        max_output_tokens=64000,
    )
    ModelAlias.objects.create(alias="acme-sonnet-20260101", model=model)
    data = clean_version_data(
        {
            "effective_from": "2026-08-01T00:00:00Z",
            "rates": {"input": "3", "output": "15", "cache_read": "0.3", "cache_write_5m": "3.75"},
            "long_context": {"threshold": 200000, "rates": {"input": "6", "output": "22.5"}},
            "tiers": {"batch": "0.5", "fast": "6"},
            "regions": {"us": "1.1"},
        },
        "test",
    )
    version_publish(version=version_create(model=model, data=data))
    return model


def test_export_writes_litellm_entries_with_per_token_floats(sonnet_like):
    entries = litellm_export(at=datetime(2026, 8, 2, tzinfo=UTC))
    entry = entries["acme-sonnet"]
    assert entry["litellm_provider"] == "acme" and entry["mode"] == "chat"
    assert (entry["max_input_tokens"], entry["max_output_tokens"]) == (200000, 64000)
    # $3 in = 3e-06 per token, $15 out = 1.5e-05, $3.75 5m write = 3.75e-06
    assert entry["input_cost_per_token"] == 3e-06
    assert entry["output_cost_per_token"] == 1.5e-05
    assert entry["cache_creation_input_token_cost"] == 3.75e-06
    # long context: $6 in over 200K = 6e-06; $22.50 out = 2.25e-05
    assert entry["input_cost_per_token_above_200k_tokens"] == 6e-06
    assert entry["output_cost_per_token_above_200k_tokens"] == 2.25e-05
    # batch has no explicit rates: list x 0.5 -> $1.50 in = 1.5e-06, $7.50 out = 7.5e-06,
    # and the multiplier applies to cache reads too: $0.15 = 1.5e-07
    assert entry["input_cost_per_token_batches"] == 1.5e-06
    assert entry["output_cost_per_token_batches"] == 7.5e-06
    assert entry["cache_read_input_token_cost_batches"] == 1.5e-07
    assert entry["provider_specific_entry"] == {"us": 1.1, "fast": 6.0}
    assert '"input_cost_per_token": 3e-06' in json.dumps(entries)
    assert "acme-sonnet-20260101" not in entries


def test_export_can_key_entries_by_alias_and_skips_models_without_a_version_yet(sonnet_like):
    entries = litellm_export(at=datetime(2026, 8, 2, tzinfo=UTC), include_aliases=True)
    assert entries["acme-sonnet-20260101"] == entries["acme-sonnet"]
    assert "acme-sonnet" not in litellm_export(at=datetime(2026, 7, 1, tzinfo=UTC))


def test_importing_our_own_export_keeps_the_richer_catalog_version(sonnet_like):
    # the batch multiplier comes back as explicit _batches prices: the same money, so the
    # catalog's version (which also says "0.5 of list") stays and nothing is created
    exported = litellm_export(at=datetime(2026, 8, 2, tzinfo=UTC), models=[sonnet_like])
    report = litellm_import(data=exported, effective_from=datetime(2026, 9, 1, tzinfo=UTC))
    assert (report.unchanged, report.versions_created) == (1, 0)


def test_export_writes_openai_regions_as_processing_uplifts():
    data = {
        "rates": {
            "input": Decimal("5"),
            "output": Decimal("30"),
            "cache_write_30m": Decimal("6.25"),
        },
        "regions": {"eu": Decimal("1.1")},
    }
    entry = litellm_entry(provider="openai", model_id="gpt-x", data=data)
    assert entry["cache_creation_input_token_cost"] == 6.25e-06
    assert entry["regional_processing_uplift_multiplier_eu"] == 1.1
    assert "provider_specific_entry" not in entry


@pytest.mark.django_db
def test_the_export_command_writes_a_file(tmp_path):
    litellm_import(data={"acme-chat-1": acme()}, effective_from=WHEN, publish=True)
    out = tmp_path / "out.json"
    call_command(
        "export_litellm", "--at", "2026-08-02T00:00:00Z", "--output", str(out), stderr=io.StringIO()
    )
    assert json.loads(out.read_text())["acme-chat-1"]["output_cost_per_token"] == 8e-06


@pytest.mark.django_db
def test_the_import_command_prints_a_json_report():
    stdout = io.StringIO()
    call_command(
        "import_litellm", str(SUBSET), "--json", "--effective-from", "2026-08-01", stdout=stdout
    )
    report = json.loads(stdout.getvalue())
    assert set(report) >= {
        "entries",
        "versions_created",
        "unchanged",
        "skipped",
        "unknown_keys",
        "errors",
    }
    assert report["entries"] == 12
    assert report["skipped"]["mode embedding"] == 2
    assert report["unknown_keys"]["search_context_cost_per_query"]["count"] >= 1
    assert report["rounded"] == {
        "databricks/databricks-claude-sonnet-4-5": ["input_cost_per_token", "output_cost_per_token"]
    }


# --------------------------------------------------------------------------- round trip


def _cost_keys(entry: dict) -> dict[str, Decimal]:
    """Per-token price keys as Decimals of the float repr, under LiteLLM's main spelling."""
    out = {}
    for key, value in entry.items():
        if key == "input_cost_per_token_cache_hit":
            out["cache_read_input_token_cost"] = Decimal(repr(value))
        elif COST_KEY.match(key):
            out[key] = Decimal(repr(value))
    return out


@pytest.mark.django_db
def test_export_then_import_of_the_real_litellm_file_loses_nothing():
    original = parse_litellm_json(gzip.decompress(FULL_FILE.read_bytes()))
    far = datetime(2099, 1, 1, tzinfo=UTC)  # after every bundled version, so ours are in effect
    report = litellm_import(data=original, effective_from=far, publish=True)
    assert report.errors == []
    assert report.versions_created + report.unchanged == len(report.imported) > 2000
    exported = litellm_export(at=far)
    mapped = {m.key: m for m in map_file(original)}
    checked = 0
    for key, slug in report.imported.items():
        entry = mapped[key]
        back = map_entry(key, {**exported[slug], "litellm_provider": entry.provider})
        assert back.data == entry.data, key
        if entry.unknown:
            continue
        want, got = _cost_keys(original[key]), _cost_keys(exported[slug])
        assert set(got) == set(want), key
        for name, value in want.items():
            if name in entry.rounded:
                # stored to 10 decimals per MTok: within 1e-16 per token of the original
                assert abs(got[name] - value) <= Decimal("1e-16"), (key, name)
            else:
                assert got[name] == value, (key, name)
        checked += 1
    assert checked > 1500
    # and importing the export again finds nothing new
    again = litellm_import(data=exported, effective_from=far, publish=True)
    assert again.versions_created == 0


# --------------------------------------------------------------------------- admin


IMPORT_URL = "admin:catalog_priceversion_import_litellm"


def upload(content: bytes, name: str = "prices.json") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/json")


@pytest.mark.django_db
def test_the_import_page_sends_anonymous_visitors_to_login(client):
    response = client.get(reverse(IMPORT_URL))
    assert response.status_code == HTTPStatus.FOUND
    assert "/login/" in response["Location"]


def test_the_import_page_is_not_for_signed_in_non_staff(client, bob):
    client.force_login(bob)
    assert client.get(reverse(IMPORT_URL)).status_code in (HTTPStatus.FOUND, HTTPStatus.FORBIDDEN)


def test_the_import_page_needs_the_add_price_version_permission(client, django_user_model):
    carol = django_user_model.objects.create_user("carol", password="pw-carol-123", is_staff=True)
    client.force_login(carol)
    assert client.get(reverse(IMPORT_URL)).status_code == HTTPStatus.FORBIDDEN
    carol.user_permissions.add(Permission.objects.get(codename="add_priceversion"))
    carol = django_user_model.objects.get(pk=carol.pk)
    client.force_login(carol)
    assert client.get(reverse(IMPORT_URL)).status_code == HTTPStatus.OK


def test_publishing_from_the_import_page_needs_the_change_permission(client, django_user_model):
    carol = django_user_model.objects.create_user("carol", password="pw-carol-123", is_staff=True)
    carol.user_permissions.add(Permission.objects.get(codename="add_priceversion"))
    client.force_login(carol)
    before = counts()
    response = client.post(
        reverse(IMPORT_URL), {"file": upload(SUBSET.read_bytes()), "publish": "on"}
    )
    assert "needs the change price version permission" in response.content.decode()
    assert counts() == before


def test_staff_import_a_file_as_drafts_and_see_the_report(client, alice):
    client.force_login(alice)
    assert client.get(reverse(IMPORT_URL)).status_code == HTTPStatus.OK
    response = client.post(
        reverse(IMPORT_URL),
        {"file": upload(SUBSET.read_bytes()), "effective_from": "2026-08-01 00:00"},
    )
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert "Keys not imported" in page and "search_context_cost_per_query" in page
    imported = PriceVersion.objects.filter(source_kind="import")
    assert imported.exists()
    assert not imported.filter(status=VersionStatus.PUBLISHED).exists()


def test_a_malformed_upload_shows_the_error_and_writes_nothing(client, alice):
    client.force_login(alice)
    before = counts()
    bad = json.dumps({"acme-bad": acme(input_cost_per_token=-1)}).encode()
    response = client.post(reverse(IMPORT_URL), {"file": upload(bad)})
    assert response.status_code == HTTPStatus.OK
    assert re.search(
        r"acme-bad.*input_cost_per_token: must not be negative", response.content.decode()
    )
    assert counts() == before


def test_an_upload_over_20_mb_is_refused(client, alice):
    client.force_login(alice)
    response = client.post(reverse(IMPORT_URL), {"file": upload(b" " * (20 * 1024 * 1024 + 1))})
    assert "larger than 20 MB" in response.content.decode()


def test_the_import_form_needs_a_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    before = counts()
    response = client.post(reverse(IMPORT_URL), {"file": upload(SUBSET.read_bytes())})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert counts() == before


def test_the_price_version_list_links_to_the_import_page(client, alice):
    client.force_login(alice)
    response = client.get(reverse("admin:catalog_priceversion_changelist"))
    assert reverse(IMPORT_URL) in response.content.decode()


def test_the_export_action_downloads_the_selected_models_as_json(client, alice, sonnet_like):
    client.force_login(alice)
    response = client.post(
        reverse("admin:catalog_languagemodel_changelist"),
        {"action": "export_litellm_json", "_selected_action": [sonnet_like.pk]},
    )
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    entries = json.loads(response.content)
    assert list(entries) == ["acme-sonnet"]
    assert entries["acme-sonnet"]["input_cost_per_token"] == 3e-06
