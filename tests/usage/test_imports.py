"""The import pipeline end to end: counts, de-duplication, idempotency, resume, bad input."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal as D
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.usage import services
from apps.usage.models import ImportJob, JobStatus, UsageRow, Workload
from apps.usage.services import import_job_create, import_job_run, workload_get_or_create

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent.parent / "data" / "usage"
CLAUDE = DATA / "claude_code"


def claude_projects() -> Path:
    path = CLAUDE / "projects"
    if not path.exists():
        pytest.skip(f"sample missing: {path}")
    return path


def big_session() -> Path:
    return next(p for p in claude_projects().rglob("*.jsonl") if "subagents" not in p.parts)


def run_import(*paths: Path, workload: str = "w", fmt: str = "") -> dict:
    out = StringIO()
    args = [str(p) for p in paths] + ["--workload", workload, "--json"]
    if fmt:
        args += ["--format", fmt]
    call_command("import_usage", *args, stdout=out)
    return json.loads(out.getvalue())


def by_model(report: dict) -> dict[str, dict]:
    return {row["model"]: row for row in report["by_model"]}


def test_claude_code_projects_folder_yields_221_responses_priced_at_list_price():
    report = run_import(claude_projects())
    assert report["records_imported"] == 221
    assert report["errors"]["count"] == 0
    rows = by_model(report)
    haiku = rows["claude-haiku-4-5"]
    # de-duplicated totals given in the samples' SOURCES.md (largest snapshot per response)
    assert (
        haiku["input_tokens"],
        haiku["output_tokens"],
        haiku["cache_write_5m_tokens"],
        haiku["cache_read_tokens"],
    ) == (150, 29_879, 141_785, 10_933_461)
    # Independent calculation at list price (USD per million tokens):
    # Haiku 4.5 ($1 in, $0.10 read, $1.25 5m write, $5 out):
    #   150x1 + 10,933,461x0.10 + 141,785x1.25 + 29,879x5 = 1,420,122.35 -> $1.42012235
    assert haiku["cost_usd"] == "1.42012235"
    opus = rows["claude-opus-4-6"]
    # Opus 4.6 ($5 in, $0.50 read, $6.25 5m write, $25 out), main session + compaction agent:
    #   95x5 + 5,638,009x0.50 + 217,025x6.25 + 19,596x25 = 4,665,785.75 -> $4.66578575
    assert (
        opus["input_tokens"],
        opus["cache_read_tokens"],
        opus["cache_write_5m_tokens"],
        opus["output_tokens"],
    ) == (95, 5_638_009, 217_025, 19_596)
    assert opus["cost_usd"] == "4.66578575"
    sonnet = rows["claude-sonnet-4-5"]
    # Sonnet 4.5 sub-agent ($3, $0.30, $3.75, $15): 2,408x3 + 29,274x0.3 + 18,814x3.75 + 7x15
    #   = 86,663.7 -> $0.0866637
    assert sonnet["cost_usd"] == "0.0866637"
    assert D(report["total_cost_usd"]) == D("1.42012235") + D("4.66578575") + D("0.0866637")
    assert round(D(report["total_cost_usd"]), 2) == D("6.17")


def test_reimporting_the_same_files_adds_nothing():
    first = run_import(claude_projects(), workload="again")
    second = run_import(claude_projects(), workload="again")
    assert second["records_imported"] == 0
    assert second["duplicates_skipped"] == first["records_imported"] + first["duplicates_skipped"]
    assert second["total_cost_usd"] == first["total_cost_usd"]
    assert UsageRow.objects.filter(workload__name="again").count() == 221


def test_an_overlapping_import_adds_only_the_new_responses():
    first = run_import(big_session(), workload="overlap")
    assert first["records_imported"] == 217
    second = run_import(claude_projects(), workload="overlap")
    assert second["records_imported"] == 221 - 217
    assert UsageRow.objects.filter(workload__name="overlap").count() == 221


def test_a_killed_import_resumes_without_losing_or_doubling(monkeypatch):
    """A crash between batches: the redelivered task continues from the committed point."""
    monkeypatch.setattr(services, "BATCH_RECORDS", 20)
    real_write = services.write_rows
    calls = {"n": 0}

    def crash_on_third_batch(job, batch):
        calls["n"] += 1
        if calls["n"] == 3:
            raise SystemExit("worker killed")  # like SIGKILL: nothing after this runs
        return real_write(job, batch)

    monkeypatch.setattr(services, "write_rows", crash_on_third_batch)
    workload = workload_get_or_create(name="killed")
    monkeypatch.setattr("apps.usage.tasks.import_job_task.delay_on_commit", lambda *a: None)
    job = import_job_create(workload=workload, files=[("projects", claude_projects(), False)])
    with pytest.raises(SystemExit):
        import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING  # as a dead worker leaves it
    assert 0 < job.records_imported < 221
    assert UsageRow.objects.filter(workload=workload).count() == job.records_imported
    monkeypatch.setattr(services, "write_rows", real_write)
    finished = import_job_run(job_id=job.pk)  # the redelivered task
    assert finished.status == JobStatus.DONE
    assert finished.attempts == 2
    assert finished.records_imported == 221
    assert UsageRow.objects.filter(workload=workload).count() == 221
    fresh = run_import(claude_projects(), workload="control")
    assert finished.lines_read == fresh["lines_read"]
    assert finished.duplicates_skipped == fresh["duplicates_skipped"]
    assert finished.summary["total_cost_usd"] == fresh["total_cost_usd"]


def test_a_finished_job_is_not_run_twice():
    report = run_import(claude_projects(), workload="once")
    job = ImportJob.objects.get(code=report["job"])
    again = import_job_run(job_id=job.pk)
    assert again.attempts == 1 and again.records_imported == 221


def test_bad_lines_are_counted_with_file_and_line_and_the_import_goes_on(tmp_path):
    src = big_session()
    good = src.read_bytes().splitlines(keepends=True)[:400]
    bad = [b"{not json\n", b"\xff\xfe garbage\n", good[0][:50] + b"\n"]
    corpus = tmp_path / "session.jsonl"
    corpus.write_bytes(b"".join(good[:100] + bad + good[100:]))
    report = run_import(corpus, workload="bad")
    assert report["errors"]["count"] >= 3
    lines = {(s["file"], s["line"]) for s in report["errors"]["samples"]}
    assert ("session.jsonl", 101) in lines and ("session.jsonl", 102) in lines
    assert report["records_imported"] > 0


def test_an_unknown_format_is_a_clear_error_naming_what_was_expected(tmp_path):
    odd = tmp_path / "notes.txt"
    odd.write_text("hello\nthis is not a usage log\n")
    with pytest.raises(CommandError, match="not a recognised usage log or export.*claude_code"):
        run_import(odd, workload="odd")


def test_an_unknown_file_next_to_good_ones_is_reported_and_the_rest_imported(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "readme.txt").write_text("not a log\n")
    shutil.copy(big_session(), folder / "session.jsonl")
    report = run_import(folder, workload="mixed")
    assert report["records_imported"] == 217
    assert any("not a recognised" in s["reason"] for s in report["errors"]["samples"])


def test_a_bad_format_name_is_refused():
    with pytest.raises(CommandError):
        run_import(claude_projects(), workload="x", fmt="no_such_format")


def test_workloads_from_the_command_line_have_no_owner():
    run_import(big_session(), workload="cli")
    assert Workload.objects.get(name="cli").owner is None


# One real or spec-generated file per format, imported end to end through the command with
# auto-detection: (file, expected records imported).
FORMAT_SAMPLES = [
    ("claude_code/fixtures/short.jsonl", 1),
    ("codex/sessions", None),
    ("generic/example.csv", None),
    ("openai_usage_api/completions_usage_grouped_pages.json", 5),
    ("openai_dashboard_csv/completions_usage_2026-03-01_2026-03-04.csv", 4),
    ("anthropic_usage_report/usage_report_messages_1d.json", 5),
    ("anthropic_console_csv/claude_api_tokens_2026_02.csv", 2),
    ("openrouter/generations.jsonl", None),
    ("litellm_spend_logs/spend_logs.csv", 5),
]


@pytest.mark.parametrize(("sample", "expected"), FORMAT_SAMPLES, ids=[s for s, _ in FORMAT_SAMPLES])
def test_every_format_imports_its_sample_by_detection(sample, expected):
    report = run_import(DATA / sample, workload=f"fmt-{sample}")
    assert report["errors"]["count"] == 0, report["errors"]["samples"]
    assert report["records_imported"] > 0
    if expected is not None:
        assert report["records_imported"] == expected
    # priced, or reported as unpriced with the ids involved (Codex models are not in the
    # fact sheet), never silently $0
    assert report["by_model"] or report["unpriced"]["models"]
    assert report["unpriced"]["records"] == 0 or report["unpriced"]["models"]


@pytest.mark.parametrize("kind", ["zip", "gztar"])
def test_a_zipped_or_tarred_projects_folder_imports_like_the_folder(tmp_path, kind):
    archive = shutil.make_archive(
        str(tmp_path / "claude"), kind, root_dir=CLAUDE, base_dir="projects"
    )
    report = run_import(Path(archive), workload=f"archive-{kind}")
    assert report["records_imported"] == 221
    assert round(D(report["total_cost_usd"]), 8) == D("6.1725718")


def test_console_token_and_cost_exports_reconcile_to_the_cent():
    report = run_import(
        DATA / "anthropic_console_csv/claude_api_tokens_2026_02.csv",
        DATA / "anthropic_console_csv/claude_api_cost_2026_02_01_to_2026_02_01.csv",
        workload="console",
    )
    # Haiku 4.5: 16,765 x $1 + 1,702 x $5 = $0.025275; Opus 4.5: 43 x $5 + 302,527 x $6.25
    #   + 3,301,672 x $0.50 + 32,676 x $25 = $4.35874475 (per million tokens)
    assert report["total_cost_usd"] == "4.38401975"
    rec = {r["model"]: r for r in report["reconciliation"]}
    assert rec["claude-opus-4-5"]["billed_usd"] == "4.36"
    assert rec["claude-haiku-4-5"]["billed_usd"] == "0.03"
    # the Console rounds each row to the cent; the difference stays under a cent per row
    assert abs(D(rec["claude-opus-4-5"]["difference_usd"])) < D("0.01")


def test_an_openai_export_not_grouped_by_model_is_kept_and_reported_unpriced():
    # The real cookbook export (SOURCES.md): 26 daily rows, model null in every one.
    report = run_import(DATA / "openai_usage_api/completions_usage_buckets_1d_cookbook.json")
    assert report["records_imported"] == 26
    assert report["errors"]["count"] == 0 and report["lines_skipped"] == 0
    assert report["by_model"] == [] and report["total_cost_usd"] == "0"
    unpriced = report["unpriced"]
    assert unpriced["records"] == 26 and unpriced["requests"] == 19_347
    # 16,951,009 prompt tokens (cached included) + 729,421 output tokens
    assert unpriced["tokens"] == 16_951_009 + 729_421
    assert unpriced["models"] == ["(no model)"]
    assert unpriced["reasons"] == {"the source names no model (export it grouped by model)": 26}


def test_a_cost_export_alone_reports_what_was_billed_without_a_made_up_difference():
    report = run_import(
        DATA / "anthropic_console_csv/claude_api_cost_2026_02_01_to_2026_02_01.csv",
        workload="cost-only",
    )
    rec = {r["model"]: r for r in report["reconciliation"]}
    assert rec["claude-opus-4-5"]["billed_usd"] == "4.36"
    assert rec["claude-opus-4-5"]["computed_usd"] is None
    assert rec["claude-opus-4-5"]["difference_usd"] is None
    assert rec["claude-opus-4-5"]["basis"].startswith("billed only")
