"""Reading uploaded usage files safely: directories, plain files, compression and archives.

``iter_sources(paths, limits)`` yields one ``Source`` per log file found, whatever it is
wrapped in: a directory tree, a ``.gz``/``.bz2``/``.xz`` stream, a ``.zip``, a ``.tar``
(plain or compressed), or any nesting of those (a ``.jsonl.gz`` inside a ``.tar.gz``).
Containers are recognised by their magic bytes, not by their names. Nothing is extracted
to disk, except a zip nested inside another container: zip needs random access, so it is
spooled to a bounded temporary file first.

Each ``Source`` streams its decompressed bytes as lines (``open_lines``); a line longer
than ``Limits.max_line_bytes`` is never held whole: it becomes an ``OversizedLine`` marker
that parsers turn into a ``LineError`` (``formats/base.py``: MAX_LINE_BYTES).

Limits (``Limits``; performance-and-reliability.md section 3 "Uploads" and G4/G5):

* Fatal, raise ``SourceLimitError`` and stop the whole upload: more archive members than
  ``max_members``; more than ``max_total_bytes`` produced by decompression (summed over
  every layer, so a ``.gz`` inside a ``.tar.gz`` counts twice); an upload whose
  decompressed bytes (every member, every layer) pass ``max_ratio`` times the size of its
  compressed files on disk plus ``ratio_allowance_bytes`` for the whole upload (checked
  from the first byte, so many small members cannot each hide under a grace); a
  decompression stream whose output passes ``max_ratio`` times its compressed input
  (checked while streaming, after ``ratio_grace_bytes`` of output, and for zip also up
  front from the header); containers nested deeper than ``max_depth``. A bomb is hostile
  input, so the upload as a whole is refused rather than partly imported.
* Per member, skipped with a reason passed to ``on_skip(name, reason)``: absolute or
  ``..`` member names (never resolved or written anywhere), symlinks, hard links, devices
  and FIFOs, encrypted zip members, hidden files (``.DS_Store``, AppleDouble ``._x``) and
  ``__MACOSX/`` metadata. Directories inside archives are structure and skipped silently.

Corrupt or truncated containers raise ``SourceError`` naming the source; lines already
yielded stay valid.

A file on disk that is not an archive (plain, or only compressed: ``x.jsonl.gz``) is opened
once while the iterator is on it: the compression sniff reads its first few bytes (the
magic), then ``head()`` and ``open_lines()`` use that same handle (a plain file is rewound,
a compressed one replays the decompressed head), so the usual loop costs one ``open`` per
file. Its ``Source`` can still be read any number of times, even after the iterator has
finished (``list(iter_sources(...))`` works): once the iterator has moved on, or after the
first ``open_lines()``, it is reopened on demand, and no descriptor is held per yielded
source. A member of an archive is one stream: it is read once, before the iterator
advances (the usual ``for source in iter_sources(...): parse(source.open_lines())`` loop);
reading it later raises a clear ``SourceError``.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
import zipfile
from collections.abc import Callable, Generator, Iterator
from functools import partial
from pathlib import Path
from typing import IO

from .streams import (
    COMPRESSIONS,
    CORRUPT,
    GIB,
    KIB,
    MIB,
    Budget,
    Guarded,
    Limits,
    OversizedLine,
    Prefixed,
    ReadProgress,
    SkipCallback,
    SourceError,
    SourceLimitError,
    buffered,
    check_depth,
    decompress,
    member_problem,
    open_raw,
    open_sniffed,
    oversized_reason,
    peel,
    read_upto,
    spool,
    stream_lines,
)

# the public names of reading uploads, wherever they are defined
__all__ = [
    "GIB",
    "KIB",
    "MIB",
    "Limits",
    "OversizedLine",
    "ReadProgress",
    "SkipCallback",
    "Source",
    "SourceError",
    "SourceLimitError",
    "head",
    "iter_sources",
    "oversized_reason",
]


class Source:
    """One log file of an upload, read as a stream of lines."""

    __slots__ = (
        "_expired",
        "_head",
        "_limits",
        "_opener",
        "_rewind",
        "_stream",
        "_used",
        "name",
        "size",
    )

    def __init__(
        self,
        name: str,
        size: int | None,
        limits: Limits,
        *,
        stream: IO[bytes] | None = None,
        opener: Callable[[], IO[bytes]] | None = None,
        rewind: bool = False,
    ) -> None:
        self.name = name  # display name, e.g. "projects.zip!projects/x/y.jsonl"
        self.size = size  # uncompressed size when the container says so, else None
        self._limits = limits
        # An archive member is one stream (``stream`` only). A file on disk has an opener
        # (reopened on demand, any number of times, after the iterator too) and, while the
        # iterator is on it, the handle the walk already opened (``stream``), used first.
        self._opener = opener
        self._stream = stream
        self._rewind = rewind  # the stream is a plain file: seek(0) instead of a replay
        self._head: bytes | None = None
        self._used = False
        self._expired = False  # set once iter_sources has moved on and closed the stream

    @property
    def filename(self) -> str:
        """The innermost file name without compression suffixes, for format sniffing."""
        base = self.name.rsplit("!", 1)[-1].rsplit("/", 1)[-1]
        for suffix in (".gz", ".bz2", ".xz"):
            if base.lower().endswith(suffix):
                return base[: -len(suffix)]
        return base

    def _check_readable(self) -> None:
        if self._used:
            raise SourceError(f"{self.name}: already read (a streamed source is read once)")
        if self._expired:
            raise SourceError(
                f"{self.name}: iter_sources has moved past this archive member; read each "
                "source before asking for the next"
            )

    def head(self, n: int = 64 * KIB) -> bytes:
        """The first ``n`` bytes (decompressed); reading lines afterwards still starts at 0."""
        if self._head is not None and len(self._head) >= n:
            return self._head[:n]
        if self._stream is None and self._opener is not None:
            with self._opener() as handle:
                try:
                    self._head = read_upto(handle, n)
                except CORRUPT as exc:
                    raise SourceError(f"{self.name}: unreadable ({exc})") from exc
            return self._head
        self._check_readable()
        stream = self._stream
        assert stream is not None
        try:
            if self._rewind:  # a plain file on disk: read, then rewind
                stream.seek(0)
                self._head = read_upto(stream, n)
                stream.seek(0)
                return self._head
            # a stream: what head() takes from it is replayed before the lines
            have = self._head or b""
            self._head = have + read_upto(stream, n - len(have))
        except CORRUPT as exc:
            raise SourceError(f"{self.name}: unreadable ({exc})") from exc
        return self._head[:n]

    def open_lines(self, read: list[int] | None = None) -> Iterator[bytes]:
        """Byte lines with their newline; lines over the limit come as ``OversizedLine``.

        With ``read``, each line's length (an oversized line's full length) is added to
        ``read[0]`` as it is yielded: the import's progress, without a wrapper per line.
        """
        limit = self._limits.max_line_bytes
        if self._stream is None and self._opener is not None:
            return stream_lines(None, limit, self.name, opener=self._opener, read=read)
        self._check_readable()
        stream, self._stream = self._stream, None
        assert stream is not None
        if self._rewind:
            stream.seek(0)
        elif self._head:
            stream = buffered(Prefixed(self._head, stream))
        if self._opener is None:
            self._used = True  # an archive member: its container closes the stream
            return stream_lines(stream, limit, self.name, read=read)
        return stream_lines(stream, limit, self.name, owned=True, read=read)  # the lines close it

    def _release(self) -> None:
        """The iterator moves on: close the walk's handle unless the lines took it."""
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()


def head(source: Source, n: int = 64 * KIB) -> bytes:
    """The first ``n`` decompressed bytes of a source, for ``formats.detect``."""
    return source.head(n)


def iter_sources(
    paths: list[Path],
    limits: Limits | None = None,
    on_skip: SkipCallback | None = None,
    progress: ReadProgress | None = None,
) -> Generator[Source]:
    """Every log file under ``paths``, in a stable order, each read as a ``Source``.

    With ``progress``, how far the walk is through the files (``ReadProgress.bytes``).
    """
    limits = limits or Limits()
    budget = Budget(limits)
    skip = on_skip or (lambda name, reason: None)
    read = progress or ReadProgress()
    for path in paths:
        path = Path(path)
        if path.is_dir():  # an explicit root is read even if hidden or a symbolic link
            yield from _walk_dir(path, path.name or str(path), budget, skip, read)
        elif path.is_file():
            yield from _open_file(path, path.name, budget, skip, read)
        elif path.exists():
            skip(path.name, "not a regular file")
        else:
            raise SourceError(f"{path}: no such file or directory")


def _walk_dir(
    root: Path, display: str, budget: Budget, skip: SkipCallback, read: ReadProgress
) -> Iterator[Source]:
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as exc:
        raise SourceError(f"{display}: cannot list ({exc.strerror})") from exc
    for entry in entries:
        name = f"{display}/{entry.name}"
        if entry.name.startswith("."):
            skip(name, "hidden file or folder; skipped")  # .DS_Store, .git: never usage logs
            continue
        if entry.is_symlink():
            skip(name, "symbolic link; not followed")
        elif entry.is_dir(follow_symlinks=False):
            yield from _walk_dir(Path(entry.path), name, budget, skip, read)
        elif entry.is_file(follow_symlinks=False):
            yield from _open_file(Path(entry.path), name, budget, skip, read)
        else:
            skip(name, "not a regular file (device, socket or FIFO)")


def _open_file(
    path: Path, name: str, budget: Budget, skip: SkipCallback, read: ReadProgress
) -> Iterator[Source]:
    """One file on disk, opened once: the magic bytes decide what it is."""
    handle, kind = open_sniffed(path, name)
    size = os.fstat(handle.fileno()).st_size
    if kind != "plain":
        budget.compressed += size  # the whole upload's ratio counts from here
    read._start(handle, size)
    try:
        yield from _open_kind(path, name, budget, skip, handle, kind, size)
    finally:
        read._end()


def _open_kind(
    path: Path,
    name: str,
    budget: Budget,
    skip: SkipCallback,
    handle: io.BufferedReader,
    kind: str,
    size: int,
) -> Iterator[Source]:
    if kind == "plain":  # the usual case: a log file as it is
        source = Source(
            name,
            size,
            budget.limits,
            stream=handle,
            rewind=True,
            opener=lambda: open_raw(path, name),
        )
        try:
            yield source
        finally:
            source._release()
        return
    if kind in COMPRESSIONS:
        try:
            stream, kind, depth = peel(decompress(kind, handle, name, 0, budget), name, 1, budget)
        except BaseException:
            handle.close()
            raise
        if kind == "plain":  # only compressed: x.jsonl.gz
            source = Source(
                name,
                None,
                budget.limits,
                stream=stream,
                opener=lambda: _open_peeled(path, name, budget),
            )
            try:
                yield source
            finally:
                source._release()
            return
    else:
        stream, depth = handle, 0
    try:
        if kind == "zip" and depth == 0:
            yield from _expand_zip(handle, name, depth, budget, skip)  # read in place
        else:
            yield from _expand_container(stream, kind, name, depth, budget, skip)
    finally:
        stream.close()  # closes every layer down to the file
        handle.close()


def _open_peeled(path: Path, name: str, budget: Budget) -> IO[bytes]:
    """A compressed file on disk reopened, decompressed; closing it closes the file."""
    handle, kind = open_sniffed(path, name)
    try:
        if kind not in COMPRESSIONS:  # pragma: no cover - it was compressed a moment ago
            raise SourceError(f"{name}: changed while being read")
        return peel(decompress(kind, handle, name, 0, budget), name, 1, budget)[0]
    except BaseException:
        handle.close()
        raise


def _expand(
    stream: IO[bytes], name: str, size: int | None, depth: int, budget: Budget, skip: SkipCallback
) -> Iterator[Source]:
    """Sources inside one archive member: itself if plain, else what it contains."""
    stream, kind, inner_depth = peel(stream, name, depth, budget)
    if kind == "plain":
        known_size = size if inner_depth == depth else None
        yield from _yield_source(Source(name, known_size, budget.limits, stream=stream))
    else:
        yield from _expand_container(stream, kind, name, inner_depth, budget, skip)


def _expand_container(
    stream: IO[bytes], kind: str, name: str, depth: int, budget: Budget, skip: SkipCallback
) -> Iterator[Source]:
    check_depth(name, depth, budget.limits)
    if kind == "tar":
        yield from _expand_tar(stream, name, depth, budget, skip)
        return
    spooled = spool(stream, name, budget)  # zip needs random access
    try:
        yield from _expand_zip(spooled, name, depth, budget, skip)
    finally:
        spooled.close()


def _yield_source(source: Source) -> Iterator[Source]:
    try:
        yield source
    finally:
        # The consumer asked for the next source: this one's stream is about to be closed
        # (or, in a tar, skipped past), so reading it now would give garbage or an obscure
        # error. Expire it for a clear one.
        source._expired = True


def _expand_zip(
    handle: IO[bytes], name: str, depth: int, budget: Budget, skip: SkipCallback
) -> Iterator[Source]:
    limits = budget.limits
    try:
        archive = zipfile.ZipFile(handle)
    except CORRUPT as exc:
        raise SourceError(f"{name}: not a readable zip archive ({exc})") from exc
    with archive:
        for info in archive.infolist():
            budget.count_member(name)
            member = f"{name}!{info.filename}"
            if info.is_dir():
                continue
            problem = member_problem(info.filename)
            if problem:
                skip(member, problem)
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                skip(member, "symbolic link in archive; skipped")
                continue
            if info.flag_bits & 0x1:
                skip(member, "encrypted zip member; skipped")
                continue
            compressed = max(info.compress_size, 1)
            # Header check first (cheap); the streaming check below holds even if it lies.
            if (
                info.file_size > limits.ratio_grace_bytes
                and info.file_size > limits.max_ratio * compressed
            ):
                raise SourceLimitError(
                    f"{member}: declares {info.file_size:,} bytes from {compressed:,} "
                    f"compressed (over {limits.max_ratio}:1); refusing a likely zip bomb",
                    decompressed=0,
                    compressed=compressed,
                )
            try:
                raw = archive.open(info)
            except (*CORRUPT, RuntimeError) as exc:
                raise SourceError(f"{member}: unreadable ({exc})") from exc
            with raw:
                # zipfile never reads past compress_size, so it bounds the real input.
                guarded = buffered(Guarded(raw, partial(int, compressed), member, budget))
                yield from _expand(guarded, member, info.file_size, depth + 1, budget, skip)


def _expand_tar(
    stream: IO[bytes], name: str, depth: int, budget: Budget, skip: SkipCallback
) -> Iterator[Source]:
    try:
        archive = tarfile.open(fileobj=stream, mode="r|")  # noqa: SIM115 - `with` below
    except CORRUPT as exc:
        raise SourceError(f"{name}: not a readable tar archive ({exc})") from exc
    with archive:
        try:
            for info in archive:
                budget.count_member(name)
                member = f"{name}!{info.name}"
                if info.isdir():
                    continue
                problem = member_problem(info.name)
                if problem:
                    skip(member, problem)
                    continue
                if info.issym() or info.islnk():
                    skip(member, "link in archive; skipped")
                    continue
                if not info.isfile():
                    skip(member, "device, FIFO or special file in archive; skipped")
                    continue
                data = archive.extractfile(info)
                if data is None:  # pragma: no cover - isfile() members always have data
                    continue
                yield from _expand(data, member, info.size, depth + 1, budget, skip)
        except SourceError:
            raise
        except CORRUPT as exc:
            raise SourceError(f"{name}: corrupt or truncated tar archive ({exc})") from exc
