"""Archives in imports: the whole-upload bomb ratio, skipped members shown, honest progress."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from pathlib import Path

import pytest
from django.test import Client

from apps.usage import services
from apps.usage.models import ImportJob, JobStatus
from apps.usage.services import import_job_create, import_job_run, workload_get_or_create
from apps.usage.sources import Limits, ReadProgress, SourceLimitError, iter_sources
from tests.usage.helpers import BIG_SESSION

MIB = 1024 * 1024


def many_small_bombs(path: Path, members: int = 20) -> Path:
    """20 members of 1 MB of "{}" lines: each under the 1 MiB per-stream grace, ~925:1 overall."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for i in range(members):
            archive.writestr(f"logs/{i:02d}.jsonl", b"{}\n" * 333_333)
    return path


def corpus(copies: int) -> bytes:
    """Copies of the big session with fresh response ids (217 new responses each)."""
    text = BIG_SESSION.read_text()
    return "".join(
        text.replace('"msg_', f'"msg_{i:03d}_').replace('"requestId":"req_', f'"requestId":"req_{i:03d}_')
        for i in range(copies)
    ).encode()  # fmt: skip


def test_many_members_under_the_per_stream_grace_are_still_a_bomb(tmp_path):
    archive = many_small_bombs(tmp_path / "bomb.zip")
    size = archive.stat().st_size
    assert size < 40_000  # about 22 KB for 20 MB of lines
    read = 0
    with pytest.raises(SourceLimitError, match="decompresses more than 100:1") as refused:
        for source in iter_sources([archive]):
            read += sum(len(line) for line in source.open_lines())
    # refused once the whole archive passed 100 x its size plus one 1 MiB allowance,
    # never after inflating all 20 MB
    assert refused.value.compressed == size
    assert refused.value.decompressed <= Limits().ratio_allowance_bytes + 100 * size + MIB
    assert read < 5 * MIB


@pytest.mark.django_db
def test_an_upload_that_is_a_bomb_fails_with_the_reason(tmp_path):
    archive = many_small_bombs(tmp_path / "bomb.zip")
    job = import_job_create(
        workload=workload_get_or_create(name="bomb"), files=[("bomb.zip", archive, False)]
    )
    job = import_job_run(job_id=job.pk)
    assert job.status == JobStatus.FAILED and "likely decompression bomb" in job.message


def test_a_normal_archive_is_well_inside_the_ratio(tmp_path):
    path = tmp_path / "sessions.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a/session.jsonl", corpus(3))
    lines = [sum(1 for _ in source.open_lines()) for source in iter_sources([path])]
    assert lines == [corpus(3).count(b"\n")]


@pytest.mark.parametrize("kind", ["zip", "tar.gz", "jsonl.gz"])
def test_read_progress_counts_the_files_as_stored(tmp_path, kind):
    data = corpus(4)
    path = tmp_path / f"upload.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("a.jsonl", data[: len(data) // 2])
            archive.writestr("b.jsonl", data[len(data) // 2 :])
    elif kind == "tar.gz":
        with tarfile.open(path, "w:gz") as tar:
            info = tarfile.TarInfo("a.jsonl")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    else:
        path.write_bytes(gzip.compress(data))
    size = path.stat().st_size
    progress = ReadProgress()
    seen = []
    for source in iter_sources([path], progress=progress):
        for i, _ in enumerate(source.open_lines()):
            if i % 500 == 0:
                seen.append(progress.bytes)
    assert seen == sorted(seen) and seen[-1] <= size
    assert seen[1] < size * 0.5  # compressed bytes, not decompressed lines against them
    assert progress.bytes == size


@pytest.mark.django_db
def test_the_progress_of_a_compressed_upload_moves_like_for_like(tmp_path, monkeypatch):
    """It jumped to 99% at once: decompressed bytes were compared with the compressed size."""
    path = tmp_path / "sessions.jsonl.gz"
    path.write_bytes(gzip.compress(corpus(6)))
    monkeypatch.setattr(services, "BATCH_RECORDS", 50)
    real = services._commit
    percents = []

    def spy(job, *args):
        ok = real(job, *args)
        percents.append(ImportJob.objects.get(pk=job.pk).percent)
        return ok

    monkeypatch.setattr(services, "_commit", spy)
    job = import_job_create(
        workload=workload_get_or_create(name="gz"), files=[("sessions.jsonl.gz", path, False)]
    )
    job = import_job_run(job_id=job.pk)
    assert job.status == JobStatus.DONE and job.records_imported == 6 * 217
    assert percents == sorted(percents)
    # the reader hands over a few thousand lines at a time: progress moves by those steps,
    # each the compressed bytes read so far (before: 16 MB of lines against a 1.6 MB file)
    assert percents[0] < 90 and len(set(percents)) >= 2


def tar_with_unsafe_members(path: Path) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        tar.add(BIG_SESSION, arcname="projects/p/session.jsonl")
        for name, kind in [
            ("projects/p/link.jsonl", tarfile.SYMTYPE),
            ("../escape.jsonl", tarfile.REGTYPE),
            ("projects/p/tty", tarfile.CHRTYPE),
        ]:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = "/etc/passwd" if kind == tarfile.SYMTYPE else ""
            tar.addfile(info, io.BytesIO(b"") if kind == tarfile.REGTYPE else None)
    return path


EXPECTED_WARNINGS = [
    {"file": "logs.tar.gz!projects/p/link.jsonl", "reason": "link in archive; skipped"},
    {"file": "logs.tar.gz!../escape.jsonl", "reason": "path traversal ('..') in archive; skipped"},
    {
        "file": "logs.tar.gz!projects/p/tty",
        "reason": "device, FIFO or special file in archive; skipped",
    },
]


@pytest.mark.django_db
def test_skipped_archive_members_are_shown_on_the_job_page(tmp_path, bob):
    archive = tar_with_unsafe_members(tmp_path / "logs.tar.gz")
    workload = workload_get_or_create(name="tar", owner=bob)
    job = import_job_create(workload=workload, owner=bob, files=[("logs.tar.gz", archive, False)])
    job = import_job_run(job_id=job.pk)
    assert job.status == JobStatus.DONE and job.records_imported == 217
    assert job.warnings == EXPECTED_WARNINGS and job.warning_count == 3
    client = Client()
    client.force_login(bob)
    page = client.get(f"/imports/{job.code}/").content.decode()
    assert "3 archive members skipped" in page
    assert "logs.tar.gz!../escape.jsonl" in page and "path traversal" in page


@pytest.mark.django_db
def test_a_resumed_import_does_not_record_skipped_members_twice(tmp_path, monkeypatch):
    archive = tar_with_unsafe_members(tmp_path / "logs.tar.gz")
    monkeypatch.setattr(services, "BATCH_RECORDS", 20)
    real = services.write_rows
    calls = {"n": 0}

    def killed_on_third_batch(job, batch):
        calls["n"] += 1
        if calls["n"] == 3:
            raise SystemExit("worker killed")
        return real(job, batch)

    monkeypatch.setattr(services, "write_rows", killed_on_third_batch)
    job = import_job_create(
        workload=workload_get_or_create(name="tar-resume"),
        files=[("logs.tar.gz", archive, False)],
    )
    with pytest.raises(SystemExit):
        import_job_run(job_id=job.pk)
    monkeypatch.setattr(services, "write_rows", real)
    job = import_job_run(job_id=job.pk)  # the redelivered task walks the archive again
    assert job.status == JobStatus.DONE and job.attempts == 2
    assert job.warnings == EXPECTED_WARNINGS and job.warning_count == 3
