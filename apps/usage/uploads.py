"""Streaming uploads to disk under server-made names, with a size cap Django lacks."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

# Only the compression/format suffix of the user's file name is kept (it helps sniffing);
# the name itself never reaches the file system (OWASP file upload cheat sheet).
_SUFFIXES = (".jsonl.gz", ".json.gz", ".csv.gz", ".tar.gz", ".jsonl", ".json", ".csv", ".gz",
             ".zip", ".tar", ".tgz", ".bz2", ".xz", ".ndjson", ".log")  # fmt: skip
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


class SizeCapUploadHandler(FileUploadHandler):
    """Stops the request as soon as the upload passes MAX_UPLOAD_BYTES in total."""

    def __init__(self, request=None) -> None:
        super().__init__(request)
        self.total = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.total += len(raw_data)
        if self.total > settings.MAX_UPLOAD_BYTES:
            self.exceeded = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int):
        return None


def upload_dir() -> Path:
    path = Path(settings.UPLOAD_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def display_name(name: str) -> str:
    return _SAFE_NAME.sub("_", Path(name).name)[:200] or "upload"


def stored_name(name: str, position: int) -> str:
    lower = name.lower()
    suffix = next((s for s in _SUFFIXES if lower.endswith(s)), "")
    return f"{position:03d}{suffix}"


def store_uploads(files) -> list[tuple[str, Path, bool]]:
    """Move uploaded files into a fresh folder; returns (display name, path, uploaded=True)."""
    folder = upload_dir() / uuid.uuid4().hex
    folder.mkdir(mode=0o700)
    stored = []
    for position, upload in enumerate(files):
        target = folder / stored_name(upload.name, position)
        with target.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        stored.append((display_name(upload.name), target, True))
    return stored
