"""Builds the small archives in this folder (see README.md). Deterministic output.

Run: .venv/bin/python tests/data/usage/archives/make_archives.py
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MTIME = 1772409600  # 2026-03-02T00:00:00Z, so the bytes never depend on when this runs


def jsonl(tag: str, n: int) -> bytes:
    return b"".join(b'{"n":%d,"tag":"%s"}\n' % (i, tag.encode()) for i in range(n))


def gz(data: bytes) -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as handle:
        handle.write(data)
    return out.getvalue()


def zip_bytes(members: list[tuple[str, bytes]], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=method) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2026, 3, 2, 0, 0, 0))
            info.compress_type = method
            archive.writestr(info, data)
    return out.getvalue()


def add(tar: tarfile.TarFile, name: str, data: bytes = b"", **kind: object) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = MTIME
    for key, value in kind.items():
        setattr(info, key, value)
    tar.addfile(info, io.BytesIO(data) if data else None)


def build_tar_gz() -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        add(tar, "logs", type=tarfile.DIRTYPE, mode=0o755)
        add(tar, "logs/a.jsonl", jsonl("tar-a", 3))
        add(tar, "logs/b.jsonl.gz", gz(jsonl("tar-b-gz", 4)))
        add(tar, "logs/inner.zip", zip_bytes([("c.jsonl", jsonl("tar-zip-c", 2))]))
        add(tar, "../escape.jsonl", jsonl("evil", 1))
        add(tar, "/etc/absolute.jsonl", jsonl("evil", 1))
        add(tar, "logs/link.jsonl", type=tarfile.SYMTYPE, linkname="/etc/passwd")
        add(tar, "logs/hard.jsonl", type=tarfile.LNKTYPE, linkname="logs/a.jsonl")
        add(tar, "logs/null", type=tarfile.CHRTYPE, devmajor=1, devminor=3)
        add(tar, "logs/.hidden.jsonl", jsonl("hidden", 1))
    return gz(raw.getvalue())


def build_zip() -> bytes:
    return zip_bytes(
        [
            ("projects/", b""),
            ("projects/p1/s1.jsonl", jsonl("zip-s1", 2)),
            ("projects/p1/s2.jsonl.gz", gz(jsonl("zip-s2-gz", 3))),
            ("../../escape.jsonl", jsonl("evil", 1)),
            ("__MACOSX/projects/p1/._s1.jsonl", b"\x00\x05\x16\x07"),
            ("projects/.DS_Store", b"\x00\x00\x00\x01Bud1"),
        ]
    )


def main() -> None:
    (HERE / "logs.tar.gz").write_bytes(build_tar_gz())
    (HERE / "projects.zip").write_bytes(build_zip())


if __name__ == "__main__":
    main()
