"""Reading uploads: directories, compression, archives, and the safety limits."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import zipfile
from pathlib import Path

import pytest

from apps.usage.formats.claude_code import PARSER as CLAUDE_PARSER
from apps.usage.sources import (
    Limits,
    OversizedLine,
    Source,
    SourceError,
    SourceLimitError,
    head,
    iter_sources,
)
from tests.usage.helpers import CLAUDE_PROJECTS, DATA, merge, parsed

ARCHIVES = DATA / "archives"
MIB = 1024 * 1024


def collect(paths, limits: Limits | None = None) -> tuple[dict[str, bytes], list[tuple[str, str]]]:
    """{source name: content} for every source, plus the (name, reason) of skipped ones."""
    skipped: list[tuple[str, str]] = []
    found: dict[str, bytes] = {}
    for source in iter_sources(list(paths), limits, on_skip=lambda n, r: skipped.append((n, r))):
        found[source.name] = b"".join(source.open_lines())
    return found, skipped


def records(n: int, tag: str = "x") -> bytes:
    return b"".join(b'{"n":%d,"tag":"%s"}\n' % (i, tag.encode()) for i in range(n))


def tar_bytes(members: dict[str, bytes], compression: str = "") -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=f"w:{compression}") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def zip_bytes(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def zeros_gzip(path: Path, megabytes: int) -> None:
    """A gzip of zeros (about 1000:1), written in chunks: never held in memory whole."""
    chunk = b"\0" * MIB
    with gzip.open(path, "wb", compresslevel=9) as handle:
        for _ in range(megabytes):
            handle.write(chunk)


# --------------------------------------------------------------------------- plain and dirs


def test_plain_file_is_one_source_named_after_the_file(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_bytes(records(3))
    (source,) = iter_sources([path])
    assert (source.name, source.size, source.filename) == (
        "s.jsonl",
        path.stat().st_size,
        "s.jsonl",
    )
    assert list(source.open_lines()) == records(3).splitlines(keepends=True)


def test_plain_file_source_can_be_read_again_after_the_iterator_is_done(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_bytes(records(2))
    (source,) = list(iter_sources([path]))
    assert head(source, 5) == b'{"n":'
    assert b"".join(source.open_lines()) == records(2)
    assert b"".join(source.open_lines()) == records(2)


class _SpyRaw(io.RawIOBase):
    """A raw file that logs how many bytes each read returned."""

    def __init__(self, raw, log: list[int]) -> None:
        self._raw = raw
        self._log = log

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self._raw.readinto(buffer)
        self._log.append(n)
        return n

    def seek(self, *args) -> int:
        return self._raw.seek(*args)

    def tell(self) -> int:
        return self._raw.tell()

    def fileno(self) -> int:
        return self._raw.fileno()

    def close(self) -> None:
        self._raw.close()
        super().close()


def spy_on_opens(monkeypatch) -> list[tuple[str, list[int]]]:
    """Every file the reading of uploads opens, with the sizes of the raw reads made on it."""
    import apps.usage.sources.streams as streams

    opened: list[tuple[str, list[int]]] = []

    def spy_open(file, mode="rb", buffering=-1):
        log: list[int] = []
        opened.append((Path(file).name, log))
        raw = _SpyRaw(io.FileIO(file, "r"), log)
        return raw if buffering == 0 else io.BufferedReader(raw, buffering)

    monkeypatch.setattr(streams, "open", spy_open, raising=False)
    return opened


def test_plain_file_is_opened_once_and_its_sniff_reads_only_the_magic_bytes(tmp_path, monkeypatch):
    path = tmp_path / "s.jsonl"
    data = records(100_000)  # about 2.1 MB: more than one 1 MiB buffer
    path.write_bytes(data)
    opened = spy_on_opens(monkeypatch)
    for source in iter_sources([path]):  # the importer's loop: detect on the head, then lines
        assert head(source).startswith(b'{"n":0,')
        assert b"".join(source.open_lines()) == data
    ((name, reads),) = opened
    assert name == "s.jsonl"
    assert reads[0] <= 512  # the compression sniff: a few magic bytes, not a buffer's worth
    assert sum(reads) <= len(data) + 512  # the head is not read twice, the lines once


def test_compressed_file_is_opened_once_for_its_head_and_lines(tmp_path, monkeypatch):
    path = tmp_path / "s.jsonl.gz"
    path.write_bytes(gzip.compress(records(50_000)))
    opened = spy_on_opens(monkeypatch)
    for source in iter_sources([path]):
        assert head(source, 5) == b'{"n":'
        assert b"".join(source.open_lines()) == records(50_000)
    assert [name for name, _ in opened] == ["s.jsonl.gz"]


def test_lines_taken_before_the_iterator_moves_on_can_be_read_after(tmp_path):
    for name in ("a.jsonl", "b.jsonl"):
        (tmp_path / name).write_bytes(records(3, name))
    sources = iter_sources([tmp_path])
    first = next(sources)
    lines = first.open_lines()  # the handle the walk opened now belongs to these lines
    second = next(sources)
    assert b"".join(lines) == records(3, "a.jsonl")
    assert b"".join(second.open_lines()) == records(3, "b.jsonl")
    assert b"".join(first.open_lines()) == records(3, "a.jsonl")  # reopened on demand
    assert list(sources) == []


def test_open_lines_adds_up_the_bytes_it_yields(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"short\n" + b"y" * 5000 + b"\nafter")
    (source,) = iter_sources([path], Limits(max_line_bytes=1000))
    read = [0]
    lines = list(source.open_lines(read))
    assert [len(line) for line in lines[::2]] == [6, 5]
    assert read == [6 + 5000 + 5]  # an oversized line counts its full length, newline aside


def test_directory_is_walked_recursively_in_sorted_order_skipping_hidden_entries(tmp_path):
    root = tmp_path / "projects"
    (root / "b").mkdir(parents=True)
    (root / "a" / "sub").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "b" / "2.jsonl").write_bytes(records(1, "b2"))
    (root / "a" / "sub" / "1.jsonl").write_bytes(records(1, "a1"))
    (root / "a" / "0.jsonl").write_bytes(records(1, "a0"))
    (root / ".git" / "config").write_bytes(b"[core]\n")
    (root / "a" / ".DS_Store").write_bytes(b"\0\0")
    (root / "a" / "link.jsonl").symlink_to(root / "b" / "2.jsonl")
    found, skipped = collect([root])
    assert list(found) == ["projects/a/0.jsonl", "projects/a/sub/1.jsonl", "projects/b/2.jsonl"]
    assert sorted(skipped) == [
        ("projects/.git", "hidden file or folder; skipped"),
        ("projects/a/.DS_Store", "hidden file or folder; skipped"),
        ("projects/a/link.jsonl", "symbolic link; not followed"),
    ]


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(SourceError, match="no such file"):
        list(iter_sources([tmp_path / "nope.jsonl"]))


# --------------------------------------------------------------------------- compression


@pytest.mark.parametrize(
    ("suffix", "compress"),
    [(".gz", gzip.compress), (".bz2", bz2.compress), (".xz", lzma.compress)],
)
def test_compressed_file_is_decompressed_transparently(tmp_path, suffix, compress):
    path = tmp_path / f"session.jsonl{suffix}"
    path.write_bytes(compress(records(5)))
    (source,) = iter_sources([path])
    assert source.name == f"session.jsonl{suffix}"
    assert source.filename == "session.jsonl"
    assert source.size is None  # unknown until decompressed
    assert head(source, 5) == b'{"n":'
    assert b"".join(source.open_lines()) == records(5)  # head() did not eat the start
    assert b"".join(source.open_lines()) == records(5)  # a file on disk can be read again


def test_compression_is_recognised_by_content_not_by_name(tmp_path):
    path = tmp_path / "looks-plain.jsonl"
    path.write_bytes(gzip.compress(records(2)))
    found, _ = collect([path])
    assert found == {"looks-plain.jsonl": records(2)}


def test_truncated_gzip_yields_its_lines_then_a_clear_error(tmp_path):
    path = tmp_path / "cut.jsonl.gz"
    data = gzip.compress(records(20000))
    path.write_bytes(data[: len(data) // 2])
    (source,) = iter_sources([path])
    lines = []
    with pytest.raises(SourceError, match="cut.jsonl.gz: corrupt or truncated"):
        for line in source.open_lines():
            lines.append(line)
    assert len(lines) > 100


# --------------------------------------------------------------------------- archives


def test_committed_zip_yields_members_and_skips_traversal_and_metadata():
    found, skipped = collect([ARCHIVES / "projects.zip"])
    assert found == {
        "projects.zip!projects/p1/s1.jsonl": records(2, "zip-s1"),
        "projects.zip!projects/p1/s2.jsonl.gz": records(3, "zip-s2-gz"),
    }
    assert skipped == [
        ("projects.zip!../../escape.jsonl", "path traversal ('..') in archive; skipped"),
        ("projects.zip!__MACOSX/projects/p1/._s1.jsonl", "macOS resource-fork metadata; skipped"),
        ("projects.zip!projects/.DS_Store", "hidden file; skipped"),
    ]


def test_committed_tar_gz_yields_nested_gzip_and_zip_and_skips_unsafe_members(tmp_path):
    before = sorted(p.name for p in tmp_path.parent.iterdir())
    found, skipped = collect([ARCHIVES / "logs.tar.gz"])
    assert found == {
        "logs.tar.gz!logs/a.jsonl": records(3, "tar-a"),
        "logs.tar.gz!logs/b.jsonl.gz": records(4, "tar-b-gz"),
        "logs.tar.gz!logs/inner.zip!c.jsonl": records(2, "tar-zip-c"),
    }
    assert dict(skipped) == {
        "logs.tar.gz!../escape.jsonl": "path traversal ('..') in archive; skipped",
        "logs.tar.gz!/etc/absolute.jsonl": "absolute path in archive; skipped",
        "logs.tar.gz!logs/link.jsonl": "link in archive; skipped",
        "logs.tar.gz!logs/hard.jsonl": "link in archive; skipped",
        "logs.tar.gz!logs/null": "device, FIFO or special file in archive; skipped",
        "logs.tar.gz!logs/.hidden.jsonl": "hidden file; skipped",
    }
    # nothing was extracted anywhere
    assert sorted(p.name for p in tmp_path.parent.iterdir()) == before
    assert not (ARCHIVES.parent / "escape.jsonl").exists()


@pytest.mark.parametrize("compression", ["", "gz", "bz2", "xz"])
def test_tar_in_every_compression_is_read_member_by_member(tmp_path, compression):
    path = tmp_path / "logs.tar"
    path.write_bytes(tar_bytes({"d/x.jsonl": records(2), "d/y.jsonl": records(1)}, compression))
    found, _ = collect([path])
    assert found == {"logs.tar!d/x.jsonl": records(2), "logs.tar!d/y.jsonl": records(1)}


def test_gzip_inside_a_tar_inside_a_zip(tmp_path):
    inner = tar_bytes({"s/session.jsonl.gz": gzip.compress(records(3))}, "gz")
    path = tmp_path / "upload.zip"
    path.write_bytes(zip_bytes({"claude/logs.tgz": inner}, zipfile.ZIP_STORED))
    found, _ = collect([path])
    assert found == {"upload.zip!claude/logs.tgz!s/session.jsonl.gz": records(3)}


def test_tar_member_must_be_read_before_the_iterator_moves_on(tmp_path):
    path = tmp_path / "logs.tar.gz"
    path.write_bytes(tar_bytes({"a.jsonl": records(2), "b.jsonl": records(2)}, "gz"))
    sources = iter_sources([path])
    first = next(sources)
    next(sources)
    with pytest.raises(SourceError, match="moved past"):
        list(first.open_lines())


def test_archive_member_is_read_once(tmp_path):
    path = tmp_path / "logs.tar"
    path.write_bytes(tar_bytes({"s.jsonl.gz": gzip.compress(records(2))}))
    for source in iter_sources([path]):
        list(source.open_lines())
        with pytest.raises(SourceError, match="already read"):
            source.open_lines()


def test_corrupt_zip_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.zip"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(SourceError, match="broken.zip"):
        list(iter_sources([path]))


def test_zipped_claude_projects_folder_yields_221_responses(tmp_path):
    path = tmp_path / "projects.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(CLAUDE_PROJECTS.rglob("*.jsonl")):
            archive.write(file, "projects/" + file.relative_to(CLAUDE_PROJECTS).as_posix())
    events = []
    names = []
    for source in iter_sources([path]):
        names.append(source.name)
        assert CLAUDE_PARSER.sniff(head(source), source.filename)
        events += CLAUDE_PARSER.parse(source.open_lines(), source.filename)
    assert len(names) == 3 and all(n.startswith("projects.zip!projects/-home-USER") for n in names)
    assert len(merge(parsed(events))) == 221


# --------------------------------------------------------------------------- long lines


def test_line_over_the_limit_becomes_a_marker_and_the_next_line_is_intact(tmp_path):
    path = tmp_path / "s.jsonl.gz"
    long = b"y" * 5000
    path.write_bytes(gzip.compress(b"short\n" + long + b"\nafter\n" + b"x" * 999))
    (source,) = iter_sources([path], Limits(max_line_bytes=1000))
    lines = list(source.open_lines())
    assert lines[0] == b"short\n"
    assert type(lines[1]) is OversizedLine
    assert lines[1].length == 5000
    assert long.startswith(lines[1]) and 0 < len(lines[1]) <= 1024  # a prefix, never the line
    assert lines[2:] == [b"after\n", b"x" * 999]  # a last line without newline at the limit


def test_line_exactly_at_the_limit_is_kept(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"a" * 1000 + b"\n" + b"b" * 1001 + b"\n")
    (source,) = iter_sources([path], Limits(max_line_bytes=1000))
    first, second = source.open_lines()
    assert first == b"a" * 1000 + b"\n"
    assert type(second) is OversizedLine and second.length == 1001


# --------------------------------------------------------------------------- limits


def test_gzip_bomb_is_refused_while_streaming_without_inflating_it(tmp_path):
    path = tmp_path / "bomb.jsonl.gz"
    zeros_gzip(path, 200)  # 200 MB of zeros in about 200 KB
    assert path.stat().st_size < 1 * MIB
    (source,) = iter_sources([path])
    with pytest.raises(
        SourceLimitError, match="bomb.jsonl.gz: decompresses more than 100:1"
    ) as info:
        for _ in source.open_lines():
            pass
    assert info.value.decompressed < 30 * MIB  # stopped early, far from 200 MB


def test_zip_bomb_is_refused_from_its_header_before_reading(tmp_path):
    path = tmp_path / "bomb.zip"
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("zeros.jsonl", "w") as member,
    ):
        for _ in range(200):
            member.write(b"\0" * MIB)
    with pytest.raises(SourceLimitError, match="over 100:1") as info:
        list(iter_sources([path]))
    assert info.value.decompressed == 0


def test_bomb_stored_inside_a_zip_is_caught_by_the_streaming_check(tmp_path):
    bomb = tmp_path / "inner.gz"
    zeros_gzip(bomb, 200)
    path = tmp_path / "outer.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.write(bomb, "logs/inner.jsonl.gz")  # stored: the header ratio is 1:1
    with pytest.raises(
        SourceLimitError, match=r"outer.zip!logs/inner.jsonl.gz: decompresses"
    ) as info:
        for source in iter_sources([path]):
            list(source.open_lines())
    assert info.value.decompressed < 30 * MIB


def test_bomb_inside_a_tar_gz_is_refused(tmp_path):
    raw = tmp_path / "big.tar"
    with tarfile.open(raw, "w") as tar:
        info = tarfile.TarInfo("zeros.jsonl")
        info.size = 150 * MIB
        tar.addfile(info, _Zeros(info.size))
    path = tmp_path / "big.tar.gz"
    with open(raw, "rb") as src, gzip.open(path, "wb", compresslevel=9) as dst:
        while chunk := src.read(MIB):
            dst.write(chunk)
    with pytest.raises(SourceLimitError, match="big.tar.gz: decompresses more than"):
        for source in iter_sources([path]):
            list(source.open_lines())


def test_small_files_may_exceed_the_ratio_within_the_grace_allowance(tmp_path):
    path = tmp_path / "tiny.jsonl.gz"
    path.write_bytes(gzip.compress(b"{}\n" * 100_000))  # 300 KB from about 1 KB
    (source,) = iter_sources([path])
    assert len(list(source.open_lines())) == 100_000


def test_member_count_limit_refuses_the_upload(tmp_path):
    path = tmp_path / "many.zip"
    path.write_bytes(zip_bytes({f"f{i}.jsonl": b"{}\n" for i in range(20)}))
    with pytest.raises(SourceLimitError, match="more than 10 archive members"):
        collect([path], Limits(max_members=10))
    found, _ = collect([path], Limits(max_members=20))
    assert len(found) == 20


def test_total_decompressed_bytes_limit_refuses_the_upload(tmp_path):
    path = tmp_path / "s.jsonl.gz"
    path.write_bytes(gzip.compress(records(5000)))
    with pytest.raises(SourceLimitError, match="decompresses to more than 10,000 bytes"):
        collect([path], Limits(max_total_bytes=10_000))


def test_nesting_deeper_than_the_limit_is_refused(tmp_path):
    data = records(1)
    for _ in range(4):
        data = gzip.compress(data)
    path = tmp_path / "deep.gz"
    path.write_bytes(data)
    with pytest.raises(SourceLimitError, match="nested more than 3 deep"):
        collect([path], Limits(max_depth=3))
    found, _ = collect([path], Limits(max_depth=4))
    assert list(found.values()) == [records(1)]


def test_limits_have_the_documented_defaults():
    limits = Limits()
    assert limits.max_members == 10_000
    assert limits.max_total_bytes == 10 * 1024**3
    assert limits.max_ratio == 100
    assert limits.max_line_bytes == 64 * MIB


def test_source_exposes_name_size_and_filename():
    source = Source("a.zip!dir/x.jsonl.gz", None, Limits(), stream=io.BytesIO(b"{}\n"))
    assert (source.name, source.size, source.filename) == ("a.zip!dir/x.jsonl.gz", None, "x.jsonl")


class _Zeros(io.RawIOBase):
    """A readable stream of n zero bytes, generated on the fly."""

    def __init__(self, n: int) -> None:
        self.left = n

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.left)
        buffer[:n] = b"\0" * n
        self.left -= n
        return n
