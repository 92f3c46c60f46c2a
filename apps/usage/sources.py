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
  every layer, so a ``.gz`` inside a ``.tar.gz`` counts twice); a decompression stream
  whose output passes ``max_ratio`` times its compressed input (checked while streaming,
  after ``ratio_grace_bytes`` of output, and for zip also up front from the header);
  containers nested deeper than ``max_depth``. A bomb is hostile input, so the upload as a
  whole is refused rather than partly imported.
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

import bz2
import gzip
import io
import lzma
import os
import stat
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from apps.usage.formats.base import MAX_LINE_BYTES

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

_READ_CHUNK = 1 * MIB  # buffer size of every stream we wrap
_MAGIC_BYTES = 512  # enough to see a tar header's "ustar" at offset 257


class SourceError(ValueError):
    """A source that cannot be read: missing, corrupt or truncated. The message names it."""


class SourceLimitError(SourceError):
    """An upload refused by a safety limit (zip bomb, too many members, too big, too deep)."""

    def __init__(self, message: str, *, decompressed: int = 0, compressed: int = 0) -> None:
        super().__init__(message)
        self.decompressed = decompressed  # bytes produced by the offending stream when stopped
        self.compressed = compressed  # compressed bytes it had consumed by then


class OversizedLine(bytes):
    """Stands in for a line longer than the limit; its value is the line's first bytes.

    Parsers check ``type(line) is OversizedLine`` and report a ``LineError``. Its value is a
    prefix of the line (never a complete line), so a parser that does not know the marker
    still fails on it instead of reading a truncated record.
    """

    length: int  # the full line length in bytes, newline excluded

    def __new__(cls, prefix: bytes, length: int) -> OversizedLine:
        obj = super().__new__(cls, prefix)
        obj.length = length
        return obj


def oversized_reason(line: OversizedLine, limit: int = MAX_LINE_BYTES) -> str:
    return f"line is {line.length:,} bytes, longer than the {limit:,}-byte limit; not parsed"


@dataclass(frozen=True)  # no slots: Limits.max_members etc. stay readable as the defaults
class Limits:
    max_members: int = 10_000  # archive entries inspected across the whole upload
    max_total_bytes: int = 10 * GIB  # bytes produced by decompression, every layer counted
    max_ratio: int = 100  # decompressed : compressed, per stream
    ratio_grace_bytes: int = 1 * MIB  # small outputs may exceed the ratio (a 200 B -> 40 KB gz)
    max_depth: int = 4  # container nesting: a .gz in a .tar in a .zip is depth 3
    max_line_bytes: int = MAX_LINE_BYTES
    spool_memory_bytes: int = 32 * MIB  # a nested zip is kept in memory up to this, then on disk


SkipCallback = Callable[[str, str], None]


# --------------------------------------------------------------------------- raw streams


class _Budget:
    """Counters shared by every stream of one ``iter_sources`` call."""

    __slots__ = ("limits", "members", "total")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.members = 0
        self.total = 0

    def count_member(self, container: str) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise SourceLimitError(
                f"{container}: more than {self.limits.max_members:,} archive members in the "
                "upload; refusing it (raise Limits.max_members to allow more)"
            )


def _read_some(stream: IO[bytes]) -> Callable[[int], bytes]:
    """``read1`` where there is one: what is available now, not a loop until n bytes.

    Reading in place of a buffered ``read(n)`` keeps the data flowing in small steps, so a
    truncated stream still yields the lines before the damage and the ratio check runs
    on every step.
    """
    return getattr(stream, "read1", stream.read)


class _Counting(io.RawIOBase):
    """Counts the compressed bytes a decompressor pulls from its input."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._readinto = _readinto_some(raw)
        self.count = 0

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()

    def readinto(self, buffer) -> int:  # type: ignore[override]
        n = self._readinto(buffer)
        self.count += n
        return n


class _Guarded(io.RawIOBase):
    """A decompressor's output, stopped as soon as it breaks the ratio or the total budget.

    The check runs on every chunk read, so a bomb is refused after about
    ``max_ratio x (compressed bytes read so far)`` of output, never after inflating it all.
    """

    def __init__(
        self,
        inner: IO[bytes],
        compressed: Callable[[], int],
        name: str,
        budget: _Budget,
        below: IO[bytes] | None = None,
    ) -> None:
        self._inner = inner
        self._read = _read_some(inner)
        self._compressed = compressed
        self._name = name
        self._budget = budget
        self._below = below  # the decompressor's input: closed with it, down to the file
        self.produced = 0

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            try:
                self._inner.close()
            finally:
                if self._below is not None:  # a GzipFile does not close its input itself
                    self._below.close()
        super().close()

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self._read(len(buffer))
        n = len(data)
        buffer[:n] = data
        if n:
            self.produced += n
            self._budget.total += n
            self._check()
        return n

    def _check(self) -> None:
        limits = self._budget.limits
        if self._budget.total > limits.max_total_bytes:
            raise SourceLimitError(
                f"{self._name}: the upload decompresses to more than "
                f"{limits.max_total_bytes:,} bytes; refusing it",
                decompressed=self.produced,
                compressed=self._compressed(),
            )
        if self.produced > limits.ratio_grace_bytes:
            compressed = max(self._compressed(), 1)
            if self.produced > limits.max_ratio * compressed:
                raise SourceLimitError(
                    f"{self._name}: decompresses more than {limits.max_ratio}:1 "
                    f"({self.produced:,} bytes from {compressed:,}); refusing a likely "
                    "decompression bomb",
                    decompressed=self.produced,
                    compressed=compressed,
                )


class _Prefixed(io.RawIOBase):
    """Replays bytes already read (magic sniffing, ``head``) before the rest of a stream."""

    def __init__(self, prefix: bytes, rest: IO[bytes]) -> None:
        self._prefix = memoryview(prefix)
        self._rest = rest
        self._readinto = _readinto_some(rest)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            self._rest.close()
        super().close()

    def readinto(self, buffer) -> int:  # type: ignore[override]
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        return self._readinto(buffer)  # the rest goes straight into the caller's buffer


def _readinto_some(stream: IO[bytes]) -> Callable[[Any], int]:
    """``readinto1`` where there is one (one step, straight into the caller's buffer, like
    ``_read_some`` without the intermediate bytes object), else ``read1``/``read`` + copy."""
    readinto1 = getattr(stream, "readinto1", None)
    if readinto1 is not None:
        return readinto1
    read = _read_some(stream)

    def readinto(buffer) -> int:
        data = read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n

    return readinto


def _buffered(raw: io.RawIOBase) -> io.BufferedReader:
    return io.BufferedReader(raw, buffer_size=_READ_CHUNK)


def _read_upto(stream: IO[bytes], n: int) -> bytes:
    """Up to ``n`` bytes: fewer only at end of stream (a raw read may return short)."""
    parts: list[bytes] = []
    want = n
    while want > 0:
        chunk = stream.read(want)
        if not chunk:
            break
        parts.append(chunk)
        want -= len(chunk)
    return b"".join(parts)


# Errors the stdlib raises on corrupt or truncated compressed data.
_CORRUPT = (
    OSError,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    zipfile.BadZipFile,
    tarfile.TarError,
    NotImplementedError,  # zip compression methods the stdlib lacks
)


# --------------------------------------------------------------------------- sources


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
                    self._head = _read_upto(handle, n)
                except _CORRUPT as exc:
                    raise SourceError(f"{self.name}: unreadable ({exc})") from exc
            return self._head
        self._check_readable()
        stream = self._stream
        assert stream is not None
        try:
            if self._rewind:  # a plain file on disk: read, then rewind
                stream.seek(0)
                self._head = _read_upto(stream, n)
                stream.seek(0)
                return self._head
            # a stream: what head() takes from it is replayed before the lines
            have = self._head or b""
            self._head = have + _read_upto(stream, n - len(have))
        except _CORRUPT as exc:
            raise SourceError(f"{self.name}: unreadable ({exc})") from exc
        return self._head[:n]

    def open_lines(self, read: list[int] | None = None) -> Iterator[bytes]:
        """Byte lines with their newline; lines over the limit come as ``OversizedLine``.

        With ``read``, each line's length (an oversized line's full length) is added to
        ``read[0]`` as it is yielded: the import's progress, without a wrapper per line.
        """
        limit = self._limits.max_line_bytes
        if self._stream is None and self._opener is not None:
            return _lines(None, limit, self.name, opener=self._opener, read=read)
        self._check_readable()
        stream, self._stream = self._stream, None
        assert stream is not None
        if self._rewind:
            stream.seek(0)
        elif self._head:
            stream = _buffered(_Prefixed(self._head, stream))
        if self._opener is None:
            self._used = True  # an archive member: its container closes the stream
            return _lines(stream, limit, self.name, read=read)
        return _lines(stream, limit, self.name, owned=True, read=read)  # the lines close it

    def _release(self) -> None:
        """The iterator moves on: close the walk's handle unless the lines took it."""
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()


def head(source: Source, n: int = 64 * KIB) -> bytes:
    """The first ``n`` decompressed bytes of a source, for ``formats.detect``."""
    return source.head(n)


def _lines(
    stream: IO[bytes] | None,
    limit: int,
    name: str,
    *,
    opener: Callable[[], IO[bytes]] | None = None,
    owned: bool = False,
    read: list[int] | None = None,
) -> Iterator[bytes]:
    """The lines of a stream; with ``opener``, the file is opened at the first line asked
    for; with ``opener`` or ``owned``, it is closed when the lines are done (or the iterator
    is dropped). With ``read``, the bytes yielded are added up in ``read[0]``."""
    if opener is not None:
        stream = opener()
        owned = True
    assert stream is not None
    readline = stream.readline
    cap = limit + 2  # content up to `limit` bytes plus "\n", plus one byte to see overflow
    if read is None:
        read = [0]
    try:
        while True:
            line = readline(cap)
            size = len(line)
            if size <= limit:  # the common case: short enough whatever its ending
                if not size:
                    return
                read[0] += size
                yield line
                continue
            # readline returns a short line only at a newline or at the end of the stream
            if size - (line[-1:] == b"\n") <= limit:
                read[0] += size
                yield line
                continue
            # Longer than the limit: keep a short prefix, drain the rest without holding it.
            prefix = line[:1024]
            length = len(line)
            while line[-1:] != b"\n":
                line = readline(_READ_CHUNK)
                if not line:
                    break
                length += len(line)
            if line[-1:] == b"\n":
                length -= 1
            read[0] += length
            yield OversizedLine(prefix, length)
    except SourceError:
        raise
    except _CORRUPT as exc:
        raise SourceError(f"{name}: corrupt or truncated data ({exc})") from exc
    finally:
        if owned:
            stream.close()


# --------------------------------------------------------------------------- walking


def iter_sources(
    paths: list[Path], limits: Limits | None = None, on_skip: SkipCallback | None = None
) -> Iterator[Source]:
    """Every log file under ``paths``, in a stable order, each read as a ``Source``."""
    limits = limits or Limits()
    budget = _Budget(limits)
    skip = on_skip or (lambda name, reason: None)
    for path in paths:
        path = Path(path)
        if path.is_dir():  # an explicit root is read even if hidden or a symbolic link
            yield from _walk_dir(path, path.name or str(path), budget, skip)
        elif path.is_file():
            yield from _open_file(path, path.name, budget, skip)
        elif path.exists():
            skip(path.name, "not a regular file")
        else:
            raise SourceError(f"{path}: no such file or directory")


def _walk_dir(root: Path, display: str, budget: _Budget, skip: SkipCallback) -> Iterator[Source]:
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
            yield from _walk_dir(Path(entry.path), name, budget, skip)
        elif entry.is_file(follow_symlinks=False):
            yield from _open_file(Path(entry.path), name, budget, skip)
        else:
            skip(name, "not a regular file (device, socket or FIFO)")


def _open_file(path: Path, name: str, budget: _Budget, skip: SkipCallback) -> Iterator[Source]:
    """One file on disk, opened once: the magic bytes decide what it is."""
    handle, kind = _open_sniffed(path, name)
    if kind == "plain":  # the usual case: a log file as it is
        size = os.fstat(handle.fileno()).st_size
        source = Source(
            name,
            size,
            budget.limits,
            stream=handle,
            rewind=True,
            opener=lambda: _open_raw(path, name),
        )
        try:
            yield source
        finally:
            source._release()
        return
    if kind in _COMPRESSIONS:
        try:
            stream, kind, depth = _peel(_decompress(kind, handle, name, 0, budget), name, 1, budget)
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


def _open_raw(path: Path, name: str, buffering: int = _READ_CHUNK) -> IO[bytes]:
    try:
        return open(path, "rb", buffering=buffering)  # noqa: SIM115 - closed by callers
    except OSError as exc:
        raise SourceError(f"{name}: cannot open ({exc.strerror})") from exc


def _open_sniffed(path: Path, name: str) -> tuple[io.BufferedReader, str]:
    """The file at its start, buffered, and the kind its first bytes say it is.

    Only the magic bytes are read for the sniff (unbuffered), then the file is rewound: no
    wrapper replays them, and a plain file is then read through one buffer only.
    """
    raw = _open_raw(path, name, buffering=0)
    try:
        magic = _read_upto(raw, _MAGIC_BYTES)
        raw.seek(0)
    except OSError as exc:
        raw.close()
        raise SourceError(f"{name}: unreadable ({exc})") from exc
    return io.BufferedReader(raw, buffer_size=_READ_CHUNK), _kind(magic)  # type: ignore[arg-type]


def _open_peeled(path: Path, name: str, budget: _Budget) -> IO[bytes]:
    """A compressed file on disk reopened, decompressed; closing it closes the file."""
    handle, kind = _open_sniffed(path, name)
    try:
        if kind not in _COMPRESSIONS:  # pragma: no cover - it was compressed a moment ago
            raise SourceError(f"{name}: changed while being read")
        return _peel(_decompress(kind, handle, name, 0, budget), name, 1, budget)[0]
    except BaseException:
        handle.close()
        raise


def _peel(stream: IO[bytes], name: str, depth: int, budget: _Budget) -> tuple[IO[bytes], str, int]:
    """Takes the compression layers off a stream: (stream from its start, kind, depth).

    The kind is that of the content under the last layer: "plain", "zip" or "tar".
    Closing the returned stream closes every layer below it.
    """
    while True:
        try:
            magic = _peek(stream)
            if magic is None:  # fewer bytes to hand than the sniff needs: read and replay
                magic = _read_upto(stream, _MAGIC_BYTES)
                stream = _buffered(_Prefixed(magic, stream))
        except _CORRUPT as exc:
            raise SourceError(f"{name}: unreadable ({exc})") from exc
        kind = _kind(magic)
        if kind not in _COMPRESSIONS:
            return stream, kind, depth
        stream = _decompress(kind, stream, name, depth, budget)
        depth += 1


def _peek(stream: IO[bytes]) -> bytes | None:
    """The first ``_MAGIC_BYTES`` of a buffered stream without consuming them, if at hand."""
    peek = getattr(stream, "peek", None)
    if peek is None:
        return None
    magic = peek(_MAGIC_BYTES)
    return magic[:_MAGIC_BYTES] if len(magic) >= _MAGIC_BYTES else None


def _decompress(kind: str, stream: IO[bytes], name: str, depth: int, budget: _Budget) -> IO[bytes]:
    """One decompression layer over ``stream``, guarded by the ratio and total limits."""
    _check_depth(name, depth, budget.limits)
    counting = _Counting(stream)
    decompressor = _decompressor(kind, counting)
    return _buffered(
        _Guarded(decompressor, lambda c=counting: c.count, name, budget, below=counting)
    )


def _check_depth(name: str, depth: int, limits: Limits) -> None:
    if depth >= limits.max_depth:
        raise SourceLimitError(
            f"{name}: containers nested more than {limits.max_depth} deep; refusing it"
        )


def _expand(
    stream: IO[bytes], name: str, size: int | None, depth: int, budget: _Budget, skip: SkipCallback
) -> Iterator[Source]:
    """Sources inside one archive member: itself if plain, else what it contains."""
    stream, kind, inner_depth = _peel(stream, name, depth, budget)
    if kind == "plain":
        known_size = size if inner_depth == depth else None
        yield from _yield_source(Source(name, known_size, budget.limits, stream=stream))
    else:
        yield from _expand_container(stream, kind, name, inner_depth, budget, skip)


def _expand_container(
    stream: IO[bytes], kind: str, name: str, depth: int, budget: _Budget, skip: SkipCallback
) -> Iterator[Source]:
    _check_depth(name, depth, budget.limits)
    if kind == "tar":
        yield from _expand_tar(stream, name, depth, budget, skip)
        return
    spooled = _spool(stream, name, budget)  # zip needs random access
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


_COMPRESSIONS = frozenset({"gzip", "bzip2", "xz"})


def _kind(magic: bytes) -> str:
    if magic[:2] == b"\x1f\x8b":
        return "gzip"
    if magic[:3] == b"BZh" and magic[3:4].isdigit() and magic[4:10] == b"1AY&SY":
        return "bzip2"
    if magic[:6] == b"\xfd7zXZ\x00":
        return "xz"
    if magic[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if magic[257:262] == b"ustar":
        return "tar"
    return "plain"


def _decompressor(kind: str, raw: IO[bytes]) -> IO[bytes]:
    if kind == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if kind == "bzip2":
        return bz2.BZ2File(raw, mode="rb")
    return lzma.LZMAFile(raw, mode="rb")


def _spool(stream: IO[bytes], name: str, budget: _Budget) -> IO[bytes]:
    """A nested zip copied to a bounded temporary file: zip needs random access."""
    spooled = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - the caller closes it
        max_size=budget.limits.spool_memory_bytes
    )
    cap = budget.limits.max_total_bytes
    written = 0
    try:
        while chunk := stream.read(_READ_CHUNK):
            written += len(chunk)
            if written > cap:
                raise SourceLimitError(f"{name}: a nested zip larger than {cap:,} bytes")
            spooled.write(chunk)
    except _CORRUPT as exc:
        spooled.close()
        raise SourceError(f"{name}: unreadable ({exc})") from exc
    except SourceError:
        spooled.close()
        raise
    spooled.seek(0)
    return spooled


def _member_problem(member: str) -> str | None:
    """Why an archive member name is refused, or None. Names are never resolved on disk."""
    path = member.replace("\\", "/")
    if path.startswith("/") or (len(path) > 1 and path[1] == ":" and path[0].isalpha()):
        return "absolute path in archive; skipped"
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        return "path traversal ('..') in archive; skipped"
    if "__MACOSX" in parts:
        return "macOS resource-fork metadata; skipped"
    if parts and parts[-1].startswith("."):
        return "hidden file; skipped"
    return None


def _expand_zip(
    handle: IO[bytes], name: str, depth: int, budget: _Budget, skip: SkipCallback
) -> Iterator[Source]:
    limits = budget.limits
    try:
        archive = zipfile.ZipFile(handle)
    except _CORRUPT as exc:
        raise SourceError(f"{name}: not a readable zip archive ({exc})") from exc
    with archive:
        for info in archive.infolist():
            budget.count_member(name)
            member = f"{name}!{info.filename}"
            if info.is_dir():
                continue
            problem = _member_problem(info.filename)
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
            except (*_CORRUPT, RuntimeError) as exc:
                raise SourceError(f"{member}: unreadable ({exc})") from exc
            with raw:
                # zipfile never reads past compress_size, so it bounds the real input.
                guarded = _buffered(_Guarded(raw, lambda c=compressed: c, member, budget))
                yield from _expand(guarded, member, info.file_size, depth + 1, budget, skip)


def _expand_tar(
    stream: IO[bytes], name: str, depth: int, budget: _Budget, skip: SkipCallback
) -> Iterator[Source]:
    try:
        archive = tarfile.open(fileobj=stream, mode="r|")  # noqa: SIM115 - `with` below
    except _CORRUPT as exc:
        raise SourceError(f"{name}: not a readable tar archive ({exc})") from exc
    with archive:
        try:
            for info in archive:
                budget.count_member(name)
                member = f"{name}!{info.name}"
                if info.isdir():
                    continue
                problem = _member_problem(info.name)
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
        except _CORRUPT as exc:
            raise SourceError(f"{name}: corrupt or truncated tar archive ({exc})") from exc
