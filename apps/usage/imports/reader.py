"""The import's reading thread: reads, decompresses and parses sources ahead of the writer.

Moved out of ``services`` unchanged in what it hands over, except the progress: each box
carries how far the walk is through the upload's files as stored (``ReadProgress``), so the
job's ``bytes_done`` compares like with like with ``bytes_total`` for archives too.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from pathlib import Path

from apps.usage.formats import UnknownFormatError, detect, get_parser
from apps.usage.sources import Limits, ReadProgress, iter_sources

# What the reading thread hands over, in order, in boxes of a few thousand events:
_SOURCE = "source"  # (_SOURCE, index, name, resume line): a source to import, then its events
_EVENTS = "events"  # (_EVENTS, [events and runs], bytes of the upload's files read so far)
_END = "end"  # (_END,): the current source is done
_UNKNOWN = "unknown"  # (_UNKNOWN, index, name, reason): a source of no known format
_ERROR = "error"  # (_ERROR, exception): raised in the writer at this point of the stream
_DONE = "done"  # (_DONE,): every source is read
_BOX_EVENTS = 2048  # events and runs per box
_BOX_QUEUE = 24  # boxes in flight at most: the reader runs about a batch ahead, memory stays flat


class SourceReader:
    """Reads, decompresses and parses the sources in a thread, ahead of the writer.

    The writer (the calling thread, the only one that touches the database) gets every
    source and event in the same order as reading them itself, and accounts and commits
    them exactly as before: the same batches, the same resume points. The two overlap:
    while a batch is in PostgreSQL (COPY, commit, lookups: the GIL is released while
    waiting), the next lines are parsed. An exception in the reader (a corrupt archive, a
    limit) is raised in the writer where it happened in the stream, after everything read
    before it. Leaving the ``with`` block (done, cancelled or failed) stops the reader.

    ``skipped`` lists the archive members the walk passed over, (name, reason), in walk
    order; the walk is the same on every attempt, so after a resume its first entries are
    the ones an earlier attempt already recorded.
    """

    def __init__(
        self, job_id: int, format: str, start: tuple[int, int], limits: Limits, paths: list[Path]
    ) -> None:
        self._format = format
        self._start = start  # the resume point: (sources done, line)
        self._limits = limits
        self._paths = paths
        self.skipped: list[tuple[str, str]] = []
        self._queue: queue.Queue[list[tuple]] = queue.Queue(maxsize=_BOX_QUEUE)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._read, name=f"import-{job_id}-reader", daemon=True
        )

    def __enter__(self) -> SourceReader:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        while self._thread.is_alive():  # unblock a reader waiting for room, let it see stop
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=0.05)
        self._thread.join()

    # ----------------------------------------------------------------- writer side

    def sources(self):
        """(index, name, resume line, reason if unknown else None, chunks) per source.

        ``chunks`` yields (events, bytes of the upload read so far) until the source ends;
        read it through before asking for the next source.
        """
        items = self._items()
        for item in items:
            kind = item[0]
            if kind is _SOURCE:
                chunks = self._chunks(items)
                yield item[1], item[2], item[3], None, chunks
                for _ in chunks:  # whatever the writer left of this source
                    pass
            elif kind is _UNKNOWN:
                yield item[1], item[2], 0, item[3], None
            elif kind is _DONE:
                return

    @staticmethod
    def _chunks(items):
        for item in items:
            kind = item[0]
            if kind is _EVENTS:
                yield item[1], item[2]
            elif kind is _END:
                return

    def _items(self):
        while True:
            try:
                box = self._queue.get(timeout=1.0)
            except queue.Empty:
                if self._thread.is_alive() or not self._queue.empty():
                    continue
                raise RuntimeError("the import's reading thread ended unexpectedly") from None
            for item in box:
                if item[0] is _ERROR:
                    raise item[1]
                yield item

    # ----------------------------------------------------------------- reader side

    def _read(self) -> None:
        box: list[tuple] = []
        try:
            self._read_sources(box)
            box.append((_DONE,))
        except BaseException as exc:  # noqa: BLE001 - handed to the writer, raised there
            box.append((_ERROR, exc))
        self._put(box)

    def _put(self, box: list[tuple]) -> bool:
        """Hand a box over; False once the writer has stopped listening."""
        while not self._stop.is_set():
            try:
                self._queue.put(box, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _read_sources(self, box: list[tuple]) -> None:
        first, first_line = self._start
        skipped = self.skipped
        progress = ReadProgress()
        sources = iter_sources(
            self._paths, self._limits, lambda n, r: skipped.append((n, r)), progress
        )
        boxed = 0  # events in `box` before the current source's
        try:
            for index, source in enumerate(sources):
                if index < first:
                    continue  # finished before a restart
                try:
                    parser = (
                        get_parser(self._format)
                        if self._format
                        else detect(source.head(), source.filename)
                    )
                except UnknownFormatError as exc:
                    box.append((_UNKNOWN, index, source.name, str(exc)))
                    continue
                box.append((_SOURCE, index, source.name, first_line if index == first else 0))
                lines = source.open_lines()
                runs = getattr(parser, "parse_runs", None)
                if runs is not None:
                    events = runs(lines, source.name)
                else:
                    events = parser.parse(lines, source.name)
                chunk: list = []
                box.append((_EVENTS, chunk, 0))
                room = _BOX_EVENTS - boxed
                for event in events:
                    chunk.append(event)
                    if len(chunk) >= room:  # the box is full: hand it over, go on in a new one
                        box[-1] = (_EVENTS, chunk, progress.bytes)
                        if not self._put(box[:]):
                            return
                        box.clear()
                        chunk = []
                        box.append((_EVENTS, chunk, 0))
                        room = _BOX_EVENTS
                box[-1] = (_EVENTS, chunk, progress.bytes)
                box.append((_END,))
                boxed = _BOX_EVENTS - room + len(chunk)
                if boxed >= _BOX_EVENTS // 2:
                    if not self._put(box[:]):
                        return
                    box.clear()
                    boxed = 0
                if self._stop.is_set():
                    return
        finally:
            sources.close()
