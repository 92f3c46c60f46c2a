"""The byte streams under ``sources`` (which documents the rules), never ``Source`` objects:
limits and errors, the counters one upload shares (``Budget``, ``ReadProgress``), the
decompressors stopped at the ratio or total limit (``Guarded``), sniffing and ``peel``.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from apps.usage.formats.base import MAX_LINE_BYTES

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

READ_CHUNK = 1 * MIB  # buffer size of every stream we wrap
MAGIC_BYTES = 512  # enough to see a tar header's "ustar" at offset 257


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
    max_ratio: int = 100  # decompressed : compressed, per stream and over the whole upload
    ratio_grace_bytes: int = 1 * MIB  # small outputs may exceed the ratio (a 200 B -> 40 KB gz)
    ratio_allowance_bytes: int = 1 * MIB  # the same, once for the whole upload
    max_depth: int = 4  # container nesting: a .gz in a .tar in a .zip is depth 3
    max_line_bytes: int = MAX_LINE_BYTES
    spool_memory_bytes: int = 32 * MIB  # a nested zip is kept in memory up to this, then on disk


SkipCallback = Callable[[str, str], None]


class ReadProgress:
    """How far an ``iter_sources`` walk is, in bytes of its files as stored on disk.

    For a compressed file or an archive that is the compressed bytes consumed, so the
    import's progress compares like with like: bytes read against the files' total size.
    Read it from the thread that iterates.
    """

    __slots__ = ("_file", "_size", "done")

    def __init__(self) -> None:
        self.done = 0  # the sizes of the files finished
        self._file: IO[bytes] | None = None
        self._size = 0

    def _start(self, handle: IO[bytes], size: int) -> None:
        self._file, self._size = handle, size

    def _end(self) -> None:
        self.done += self._size
        self._file, self._size = None, 0

    @property
    def bytes(self) -> int:
        if self._file is None:
            return self.done
        try:
            position = self._file.tell()
        except (OSError, ValueError):  # closed: the lines read it through
            position = self._size
        return self.done + min(position, self._size)


class Budget:
    """Counters shared by every stream of one ``iter_sources`` call."""

    __slots__ = ("compressed", "limits", "members", "total")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.members = 0
        self.total = 0  # bytes produced by decompression, every layer
        self.compressed = 0  # on-disk size of the compressed files and archives opened

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

    def readinto(self, buffer) -> int:
        n = self._readinto(buffer)
        self.count += n
        return n

    def consumed(self) -> int:
        return self.count


class Guarded(io.RawIOBase):
    """A decompressor's output, stopped as soon as it breaks the ratio or the total budget.

    The check runs on every chunk read, so a bomb is refused after about
    ``max_ratio x (compressed bytes read so far)`` of output, never after inflating it all.
    """

    def __init__(
        self,
        inner: IO[bytes],
        compressed: Callable[[], int],
        name: str,
        budget: Budget,
        below: io.IOBase | None = None,
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

    def readinto(self, buffer) -> int:
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
        budget = self._budget
        if budget.total > limits.max_total_bytes:
            raise SourceLimitError(
                f"{self._name}: the upload decompresses to more than "
                f"{limits.max_total_bytes:,} bytes; refusing it",
                decompressed=self.produced,
                compressed=self._compressed(),
            )
        if budget.total > limits.ratio_allowance_bytes + limits.max_ratio * budget.compressed:
            raise SourceLimitError(
                f"{self._name}: the upload decompresses more than {limits.max_ratio}:1 "
                f"({budget.total:,} bytes from {budget.compressed:,} compressed, all "
                "members together); refusing a likely decompression bomb",
                decompressed=budget.total,
                compressed=budget.compressed,
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


class Prefixed(io.RawIOBase):
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

    def readinto(self, buffer) -> int:
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


def buffered(raw: io.RawIOBase) -> io.BufferedReader:
    return io.BufferedReader(raw, buffer_size=READ_CHUNK)


def read_upto(stream: IO[bytes], n: int) -> bytes:
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
CORRUPT = (
    OSError,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    zipfile.BadZipFile,
    tarfile.TarError,
    NotImplementedError,  # zip compression methods the stdlib lacks
)


def open_raw(path: Path, name: str, buffering: int = READ_CHUNK) -> IO[bytes]:
    try:
        return open(path, "rb", buffering=buffering)  # noqa: SIM115 - closed by callers
    except OSError as exc:
        raise SourceError(f"{name}: cannot open ({exc.strerror})") from exc


def open_sniffed(path: Path, name: str) -> tuple[io.BufferedReader, str]:
    """The file at its start, buffered, and the kind its first bytes say it is.

    Only the magic bytes are read for the sniff (unbuffered), then the file is rewound: no
    wrapper replays them, and a plain file is then read through one buffer only.
    """
    raw = open_raw(path, name, buffering=0)
    try:
        magic = read_upto(raw, MAGIC_BYTES)
        raw.seek(0)
    except OSError as exc:
        raw.close()
        raise SourceError(f"{name}: unreadable ({exc})") from exc
    return io.BufferedReader(raw, buffer_size=READ_CHUNK), kind_of(magic)  # type: ignore[arg-type]


def peel(stream: IO[bytes], name: str, depth: int, budget: Budget) -> tuple[IO[bytes], str, int]:
    """Takes the compression layers off a stream: (stream from its start, kind, depth).

    The kind is that of the content under the last layer: "plain", "zip" or "tar".
    Closing the returned stream closes every layer below it.
    """
    while True:
        try:
            magic = _peek(stream)
            if magic is None:  # fewer bytes to hand than the sniff needs: read and replay
                magic = read_upto(stream, MAGIC_BYTES)
                stream = buffered(Prefixed(magic, stream))
        except CORRUPT as exc:
            raise SourceError(f"{name}: unreadable ({exc})") from exc
        kind = kind_of(magic)
        if kind not in COMPRESSIONS:
            return stream, kind, depth
        stream = decompress(kind, stream, name, depth, budget)
        depth += 1


def _peek(stream: IO[bytes]) -> bytes | None:
    """The first ``MAGIC_BYTES`` of a buffered stream without consuming them, if at hand."""
    peek = getattr(stream, "peek", None)
    if peek is None:
        return None
    magic = peek(MAGIC_BYTES)
    return magic[:MAGIC_BYTES] if len(magic) >= MAGIC_BYTES else None


def decompress(kind: str, stream: IO[bytes], name: str, depth: int, budget: Budget) -> IO[bytes]:
    """One decompression layer over ``stream``, guarded by the ratio and total limits."""
    check_depth(name, depth, budget.limits)
    counting = _Counting(stream)
    decompressor = _decompressor(kind, counting)
    return buffered(Guarded(decompressor, counting.consumed, name, budget, below=counting))


def check_depth(name: str, depth: int, limits: Limits) -> None:
    if depth >= limits.max_depth:
        raise SourceLimitError(
            f"{name}: containers nested more than {limits.max_depth} deep; refusing it"
        )


COMPRESSIONS = frozenset({"gzip", "bzip2", "xz"})


def kind_of(magic: bytes) -> str:
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


def _decompressor(kind: str, raw: io.RawIOBase) -> IO[bytes]:
    # the caller closes the stream (every layer, down to the file)
    source = cast(IO[bytes], raw)
    if kind == "gzip":
        return cast(IO[bytes], gzip.GzipFile(fileobj=source, mode="rb"))
    if kind == "bzip2":
        return cast(IO[bytes], bz2.BZ2File(source, mode="rb"))
    return cast(IO[bytes], lzma.LZMAFile(source, mode="rb"))


def spool(stream: IO[bytes], name: str, budget: Budget) -> IO[bytes]:
    """A nested zip copied to a bounded temporary file: zip needs random access."""
    spooled = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - the caller closes it
        max_size=budget.limits.spool_memory_bytes
    )
    cap = budget.limits.max_total_bytes
    written = 0
    try:
        while chunk := stream.read(READ_CHUNK):
            written += len(chunk)
            if written > cap:
                raise SourceLimitError(f"{name}: a nested zip larger than {cap:,} bytes")
            spooled.write(chunk)
    except CORRUPT as exc:
        spooled.close()
        raise SourceError(f"{name}: unreadable ({exc})") from exc
    except SourceError:
        spooled.close()
        raise
    spooled.seek(0)
    return spooled


def member_problem(member: str) -> str | None:
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


def stream_lines(
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
                line = readline(READ_CHUNK)
                if not line:
                    break
                length += len(line)
            if line[-1:] == b"\n":
                length -= 1
            read[0] += length
            yield OversizedLine(prefix, length)
    except SourceError:
        raise
    except CORRUPT as exc:
        raise SourceError(f"{name}: corrupt or truncated data ({exc})") from exc
    finally:
        if owned:
            stream.close()
