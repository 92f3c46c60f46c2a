"""Claude Code import benchmark: our end-to-end import vs ``ccusage daily``, in one run.

``python -m bench.imports [--lines N | --small]`` (or ``make bench BENCH_ARGS=--only-imports``)

1. Generates (or reuses, cached by parameters under ``bench/out/corpus-<lines>/``) a
   Claude Code ``projects/`` tree with bench/corpus.py.
2. Prepares the database outside the timing: PostgreSQL at ``--database-url`` (created if
   missing, migrated, catalog loaded, earlier ``bench-*`` workloads deleted); falls back to
   SQLite, labelled, when PostgreSQL is unreachable.
3. Times ``python manage.py import_usage <corpus>/projects --workload bench-<ts> --json`` as
   one subprocess (Celery eager: parse, write, price and summarise in that process):
   wall seconds, lines/s, MB/s, peak RSS.
4. Installs ccusage into bench/node/ (npm, pinned) if needed and times its native binary,
   ``ccusage daily --json --offline``, with ``CLAUDE_CONFIG_DIR`` = the corpus, the same way.
5. Prints both, the ratio ours/ccusage, and both totals (ours exact Decimal, ccusage float)
   against the corpus's ground truth, per model; writes ``bench/out/imports.json``.

Not a test: the numbers depend on the machine; nothing asserts on them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import pstats
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from bench import corpus

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
NODE = ROOT / "bench" / "node"
CCUSAGE_VERSION = "20.0.24"
CCUSAGE_NATIVE = "@ccusage/ccusage-linux-x64"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/pricing_bench"
MEMORY_TARGET_MB = 300
CENT = Decimal("0.005")  # totals "agree to the cent" when they differ by less than half a cent
_DATE_SUFFIX = re.compile(r"-\d{8}$")


@dataclass
class Run:
    """One timed subprocess."""

    command: list[str]
    wall_s: float
    peak_rss_mb: float | None
    cpu_s: float | None  # user + system CPU of the process (and its children)
    rss_source: str
    returncode: int
    stdout: str
    stderr: str


# --------------------------------------------------------------------------- timing


_RSS_WRAPPER = """
import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
r = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as fh:
    fh.write(f"{r.ru_maxrss} {r.ru_utime + r.ru_stime}")
sys.exit(rc)
"""


def timed(command: list[str], env: dict[str, str], cwd: Path = ROOT) -> Run:
    """Run ``command`` once; wall time around it, peak RSS of that one process."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss", delete=False) as tmp:
        report = Path(tmp.name)
    gnu_time = Path("/usr/bin/time")
    if gnu_time.exists():
        full = [str(gnu_time), "-v", "-o", str(report), *command]
        source = "/usr/bin/time -v (maximum resident set size)"
    else:  # a one-child wrapper, so RUSAGE_CHILDREN covers exactly this process
        full = [sys.executable, "-c", _RSS_WRAPPER, str(report), *command]
        source = "getrusage(RUSAGE_CHILDREN).ru_maxrss of a one-child wrapper"
    t0 = time.perf_counter()
    proc = subprocess.run(full, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    text = report.read_text() if report.exists() else ""
    report.unlink(missing_ok=True)
    rss, cpu = _resources(text)
    return Run(command, wall, rss, cpu, source, proc.returncode, proc.stdout, proc.stderr)


def _resources(report: str) -> tuple[float | None, float | None]:
    """(peak RSS in MB of 10^6 bytes, CPU seconds) from GNU time's report or the wrapper's."""
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report)
    user = re.search(r"User time \(seconds\): ([\d.]+)", report)
    system = re.search(r"System time \(seconds\): ([\d.]+)", report)
    if rss:
        cpu = float(user.group(1)) + float(system.group(1)) if user and system else None
        return round(int(rss.group(1)) * 1024 / 1e6, 1), cpu
    parts = report.split()
    if len(parts) == 2:
        return round(int(parts[0]) * 1024 / 1e6, 1), round(float(parts[1]), 2)
    return None, None


# --------------------------------------------------------------------------- database


def _pg_params(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": unquote(parts.username or "postgres"),
        "password": unquote(parts.password) if parts.password else None,
        "dbname": parts.path.lstrip("/") or "pricing_bench",
    }


def prepare_postgres(url: str) -> str:
    """Create the database if missing; returns the server version. Raises if unreachable."""
    import psycopg
    from psycopg import sql

    params = _pg_params(url)
    name = params.pop("dbname")
    with psycopg.connect(dbname="postgres", connect_timeout=5, autocommit=True, **params) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")
    return str(version)


def vacuum_postgres(url: str) -> None:
    """After deleting earlier bench rows: the timed COPY then sees a clean table."""
    import psycopg

    with psycopg.connect(connect_timeout=5, autocommit=True, **_pg_params(url)) as conn:
        conn.execute("VACUUM ANALYZE usage_record")


def choose_database(url: str) -> tuple[str, str, str]:
    """(DATABASE_URL, vendor, label). PostgreSQL if reachable, else SQLite, said so."""
    try:
        version = prepare_postgres(url)
    except Exception as exc:  # noqa: BLE001 - any failure means: fall back, and say why
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        path = OUT / "imports.sqlite3"
        print(f"PostgreSQL unreachable at {url} ({reason}): falling back to SQLite")
        return f"sqlite:///{path}", "sqlite", f"SQLite fallback at {path} (PostgreSQL: {reason})"
    p = _pg_params(url)
    return url, "postgresql", f"PostgreSQL {version} at {p['host']}:{p['port']}/{p['dbname']}"


def django_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url
    env["DJANGO_SETTINGS_MODULE"] = "pricing_site.settings"
    env.pop("CELERY_BROKER_URL", None)  # eager: the import runs inside the timed process
    return env


def manage(python: str, env: dict[str, str], *args: str) -> str:
    proc = subprocess.run(
        [python, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if proc.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return proc.stdout


_SETUP_SNIPPET = """
from apps.usage.formats import claude_code
from apps.usage.models import Workload
deleted, _ = Workload.objects.filter(name__startswith="bench-").delete()
print(claude_code.JSON_LIBRARY, deleted)
"""


def prepare_django(python: str, env: dict[str, str], vendor: str, url: str) -> str:
    """Migrate, load the catalog, drop earlier bench workloads. Returns the JSON library."""
    manage(python, env, "migrate", "--noinput", "-v0")
    manage(python, env, "load_catalog", "-v0")
    library, _ = manage(python, env, "shell", "-c", _SETUP_SNIPPET).split()[-2:]
    if vendor == "postgresql":
        vacuum_postgres(url)
    return library


# --------------------------------------------------------------------------- ccusage


def _installed_version(package_dir: Path) -> str | None:
    try:
        return json.loads((package_dir / "package.json").read_text()).get("version")
    except (OSError, ValueError):
        return None


def ensure_ccusage() -> tuple[list[str] | None, str]:
    """(command prefix, note). Installs the pinned npm packages into bench/node/ if needed."""
    native = platform.system() == "Linux" and platform.machine() in ("x86_64", "AMD64")
    modules = NODE / "node_modules"
    packages = [f"ccusage@{CCUSAGE_VERSION}"]
    if native:
        packages.append(f"{CCUSAGE_NATIVE}@{CCUSAGE_VERSION}")
    wanted = [modules / "ccusage"] + ([modules / CCUSAGE_NATIVE] if native else [])
    if any(_installed_version(d) != CCUSAGE_VERSION for d in wanted):
        npm = shutil.which("npm")
        if npm is None:
            return None, "npm not found: cannot install ccusage"
        NODE.mkdir(parents=True, exist_ok=True)
        cmd = [npm, "install", "--no-audit", "--no-fund", "--prefix", str(NODE), *packages]
        print(f"installing ccusage {CCUSAGE_VERSION} into {NODE} ...")
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            return None, f"npm install failed ({proc.returncode}): {' / '.join(tail)}"
    if native:
        binary = modules / CCUSAGE_NATIVE / "bin" / "ccusage"
        if not binary.exists():
            return None, f"ccusage's native binary is missing at {binary}"
        mode = binary.stat().st_mode
        if not mode & stat.S_IXUSR:  # npm unpacks it without the execute bit
            binary.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        return [str(binary)], f"native binary {binary.relative_to(ROOT)}"
    node = shutil.which("node")
    shim = modules / "ccusage" / "src" / "cli.js"
    if node is None or not shim.exists():
        return None, "node or ccusage's cli.js not found"
    return [node, str(shim)], f"npm shim {shim.relative_to(ROOT)} (spawns the native binary)"


def ccusage_env(config_dir: Path, home: Path) -> dict[str, str]:
    """Only the corpus: an empty HOME keeps ccusage from finding other agents' logs."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "CLAUDE_CONFIG_DIR": str(config_dir),
    }


# --------------------------------------------------------------------------- results


def canonical(model: str) -> str:
    return _DATE_SUFFIX.sub("", model)


def ccusage_by_model(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for day in report.get("daily", []):
        for b in day.get("modelBreakdowns", []):
            row = out.setdefault(
                canonical(b["modelName"]),
                {"cost_usd": 0.0, "input": 0, "output": 0, "cache_write": 0, "cache_read": 0},
            )
            row["cost_usd"] += b.get("cost", 0.0)
            row["input"] += b.get("inputTokens", 0)
            row["output"] += b.get("outputTokens", 0)
            row["cache_write"] += b.get("cacheCreationTokens", 0)
            row["cache_read"] += b.get("cacheReadTokens", 0)
    return out


def ours_by_model(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for r in report.get("by_model", []):
        out[canonical(r["model"])] = {
            "cost_usd": Decimal(r["cost_usd"]),
            "requests": r["requests"],
            "input": r["input_tokens"],
            "output": r["output_tokens"],
            "cache_write": r["cache_write_5m_tokens"] + r["cache_write_1h_tokens"],
            "cache_read": r["cache_read_tokens"],
        }
    return out


def expected_by_model(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for model, r in manifest["expected"]["by_model"].items():
        out[canonical(model)] = {
            "cost_usd": Decimal(r["cost_usd"]),
            "requests": r["requests"],
            "input": r["input"],
            "output": r["output"],
            "cache_write": r["cache_write_5m"] + r["cache_write_1h"],
            "cache_read": r["cache_read"],
        }
    return out


def compare_models(
    expected: dict[str, dict[str, Any]],
    ours: dict[str, dict[str, Any]] | None,
    theirs: dict[str, dict[str, Any]] | None,
) -> list[dict[str, Any]]:
    """Per model: cost from each side and which token counts differ from the ground truth."""
    rows = []
    for model in sorted(set(expected) | set(ours or {}) | set(theirs or {})):
        exp = expected.get(model, {})
        row: dict[str, Any] = {"model": model, "expected_usd": str(exp.get("cost_usd", "0"))}
        for side, data in (("ours", ours), ("ccusage", theirs)):
            if data is None:
                continue
            got = data.get(model, {})
            row[f"{side}_usd"] = str(got.get("cost_usd", "0"))
            row[f"{side}_token_mismatches"] = {
                k: {"expected": exp.get(k, 0), "got": got.get(k, 0)}
                for k in ("input", "output", "cache_write", "cache_read")
                if got.get(k, 0) != exp.get(k, 0)
            }
        rows.append(row)
    return rows


def speed(run: Run, lines: int, size: int) -> dict[str, Any]:
    return {
        "wall_s": round(run.wall_s, 3),
        "lines_per_s": round(lines / run.wall_s),
        "mb_per_s": round(size / 1e6 / run.wall_s, 1),
        "peak_rss_mb": run.peak_rss_mb,
        "cpu_s": run.cpu_s,
        "rss_source": run.rss_source,
        "command": " ".join(run.command),
    }


def warm_page_cache(root: Path) -> None:
    """Read the corpus once, untimed, so neither tool pays for the first disk read."""
    for path in corpus.iter_files(root):
        with path.open("rb") as fh:
            while fh.read(1 << 24):
                pass


# --------------------------------------------------------------------------- profile


PHASES = (
    ("import_job_create (files, sizes)", "services.py", "import_job_create"),
    ("whole run (import_job_run)", "services.py", "import_job_run"),
    ("  parse: parser generator incl. reading lines", "claude_code.py", "parse"),
    ("    JSON loads of candidate lines", "claude_code.py", "_line"),
    ("    reading + decompression (open_lines)", "sources.py", "open_lines"),
    ("  DB write: _commit (batches + progress)", "services.py", "_commit"),
    ("    _merge_in_batch (row dicts, dedupe)", "services.py", "_merge_in_batch"),
    ("    existing-key lookup + COPY/update", "services.py", "_write_rows"),
    ("    COPY (_insert)", "services.py", "_insert"),
    ("  summary: _finish (price + summarise)", "services.py", "_finish"),
)


def profile_import(python: str, env: dict[str, str], projects: Path, stamp: str) -> dict:
    """Run the import again under cProfile (untimed) and attribute its time to phases."""
    prof = OUT / "import.prof"
    cmd = [python, "-m", "cProfile", "-o", str(prof), "manage.py", "import_usage"]
    cmd += [str(projects), "--workload", f"bench-profile-{stamp}", "--json"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode or not prof.exists():
        return {"error": proc.stderr[-2000:]}
    stats = pstats.Stats(str(prof))
    table = stats.stats  # type: ignore[attr-defined]
    total = max((v[3] for v in table.values()), default=0.0)
    phases = []
    for label, filename, func in PHASES:
        cum = sum(v[3] for k, v in table.items() if k[0].endswith(filename) and k[2] == func)
        phases.append({"phase": label, "cumulative_s": round(cum, 2)})
    top = sorted(table.items(), key=lambda kv: kv[1][2], reverse=True)[:25]
    return {
        "profile_file": str(prof.relative_to(ROOT)),
        "wall_s_under_cprofile": round(wall, 2),
        "profiled_total_s": round(total, 2),
        "phases": phases,
        "top_self_time": [
            {
                "function": f"{Path(k[0]).name}:{k[1]}({k[2]})",
                "self_s": round(v[2], 2),
                "cumulative_s": round(v[3], 2),
                "calls": v[1],
            }
            for k, v in top
        ],
    }


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.imports", description=__doc__.split("\n")[0])
    p.add_argument("--lines", type=int, default=corpus.DEFAULT_LINES, help="corpus lines")
    p.add_argument("--small", action="store_true", help=f"{corpus.SMALL_LINES:,} lines")
    p.add_argument("--seed", type=int, default=corpus.DEFAULT_SEED)
    p.add_argument("--regenerate", action="store_true", help="rebuild the cached corpus")
    p.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    p.add_argument("--python", default=sys.executable, help="interpreter for manage.py")
    p.add_argument("--no-ccusage", action="store_true")
    p.add_argument(
        "--profile", action="store_true", help="then re-run our import under cProfile (untimed)"
    )
    return p.parse_args(argv)


def corpus_dir(lines: int, seed: int) -> Path:
    suffix = "" if seed == corpus.DEFAULT_SEED else f"-seed{seed}"
    return OUT / f"corpus-{lines}{suffix}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    lines = corpus.SMALL_LINES if args.small else args.lines
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")

    # 1. corpus
    dest = corpus_dir(lines, args.seed)
    if args.regenerate and dest.exists():
        shutil.rmtree(dest)
    print(f"corpus: {dest.relative_to(ROOT)} ...", flush=True)
    manifest, reused = corpus.ensure(dest, lines, args.seed)
    size, projects = manifest["bytes"], dest / "projects"
    print(
        f"corpus: {manifest['lines']:,} lines, {size / 1e6:,.1f} MB "
        f"({manifest['bytes_per_line']:,} B/line), {manifest['files']:,} files "
        f"({manifest['subagent_files']:,} sub-agent) in {manifest['projects']} projects, "
        f"{manifest['unique_responses']:,} unique responses; "
        + ("reused" if reused else f"generated in {manifest['generated_seconds']} s")
    )
    warm_page_cache(dest)

    # 2. database (untimed)
    database_url, vendor, db_label = choose_database(args.database_url)
    env = django_env(database_url)
    json_library = prepare_django(args.python, env, vendor, database_url)
    print(f"database: {db_label}; importer JSON library: {json_library}")

    # 3. ccusage first (so a missing npm is reported before the long import)
    cc: dict[str, Any] = {"version": CCUSAGE_VERSION}
    cc_report: dict[str, Any] | None = None
    if args.no_ccusage:
        cc["skipped"] = "--no-ccusage"
    else:
        prefix, note = ensure_ccusage()
        cc["how"] = note
        if prefix is None:
            cc["skipped"] = note
            print(f"ccusage: NOT RUN: {note}")
        else:
            with tempfile.TemporaryDirectory(prefix="ccusage-home-") as home:
                run = timed(
                    [*prefix, "daily", "--json", "--offline"], ccusage_env(dest, Path(home))
                )
            if run.returncode:
                cc["skipped"] = f"ccusage exited {run.returncode}: {run.stderr[-500:]}"
                print(f"ccusage: FAILED: {cc['skipped']}")
            else:
                cc_report = json.loads(run.stdout)
                cc.update(speed(run, manifest["lines"], size))
                cc["total_cost_usd"] = cc_report["totals"]["totalCost"]

    # 4. ours
    workload = f"bench-{stamp}"
    command = [args.python, "manage.py", "import_usage", str(projects)]
    run = timed([*command, "--workload", workload, "--json"], env)
    if run.returncode:
        print(f"our import FAILED ({run.returncode}):\n{run.stderr[-3000:]}")
        return 1
    ours_report = json.loads(run.stdout)
    ours: dict[str, Any] = {
        "database": db_label,
        "json_library": json_library,
        **speed(run, manifest["lines"], size),
        "total_cost_usd": ours_report["total_cost_usd"],
        "lines_read": ours_report["lines_read"],
        "records_imported": ours_report["records_imported"],
        "duplicates_skipped": ours_report["duplicates_skipped"],
        "lines_skipped": ours_report["lines_skipped"],
        "errors": ours_report["errors"]["count"],
        "unpriced": ours_report["unpriced"],
    }

    results = summarize(manifest, ours, ours_report, cc, cc_report)
    results["at"] = stamp
    results["machine"] = {
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }
    results["corpus"] = {k: v for k, v in manifest.items() if k != "expected"} | {
        "path": str(dest.relative_to(ROOT)),
        "reused": reused,
    }
    if args.profile:
        print("profiling our import under cProfile (untimed) ...", flush=True)
        results["profile"] = profile_import(args.python, env, projects, stamp)
        print_profile(results["profile"])
    (OUT / "imports.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"results: {(OUT / 'imports.json').relative_to(ROOT)}")
    return 0


def summarize(
    manifest: dict[str, Any],
    ours: dict[str, Any],
    ours_report: dict[str, Any],
    cc: dict[str, Any],
    cc_report: dict[str, Any] | None,
) -> dict[str, Any]:
    """Print the comparison; return it as the results object."""
    print()
    print(f"{'':22}{'wall s':>9}{'lines/s':>12}{'MB/s':>9}{'peak RSS MB':>13}{'CPU s':>8}")
    rows = [("ours (import_usage)", ours)]
    if "wall_s" in cc:
        rows.append((f"ccusage {CCUSAGE_VERSION}", cc))
    for label, r in rows:
        print(
            f"{label:22}{r['wall_s']:>9.2f}{r['lines_per_s']:>12,}{r['mb_per_s']:>9.1f}"
            f"{r['peak_rss_mb'] or float('nan'):>13.1f}{r['cpu_s'] or float('nan'):>8.1f}"
        )
    out: dict[str, Any] = {"ours": ours, "ccusage": cc}
    rss = ours["peak_rss_mb"]
    print(
        f"our peak memory: {rss} MB (target < {MEMORY_TARGET_MB} MB: "
        f"{'met' if rss is not None and rss < MEMORY_TARGET_MB else 'NOT met'})"
    )
    print(
        f"ours: {ours['lines_read']:,} lines read, {ours['records_imported']:,} records, "
        f"{ours['duplicates_skipped']:,} duplicates, {ours['errors']:,} errors, "
        f"{ours['unpriced']['records']:,} unpriced"
    )
    expected_total = Decimal(manifest["expected"]["total_cost_usd"])
    ours_total = Decimal(ours["total_cost_usd"])
    out["expected_total_cost_usd"] = str(expected_total)
    if "wall_s" in cc:
        ratio = ours["wall_s"] / cc["wall_s"]
        out["ratio_wall_ours_over_ccusage"] = round(ratio, 3)
        verdict = "met" if ratio <= 1.0 else "NOT met"
        stretch = "; stretch 0.5 met" if ratio <= 0.5 else ""
        print(f"ratio ours/ccusage (wall): {ratio:.2f}  (target <= 1.0: {verdict}{stretch})")
    print(f"total, ground truth : ${expected_total:.8f}  (list prices, from the generator)")
    print(f"total, ours         : ${ours_total:.8f}  (exact)")
    if cc_report is not None:
        cc_total = Decimal(repr(cc["total_cost_usd"]))
        diff = ours_total - cc_total
        agree = abs(diff) < CENT
        out["difference_ours_minus_ccusage_usd"] = str(diff)
        out["agree_to_the_cent"] = agree
        print(f"total, ccusage      : ${cc_total}  (float)")
        print(
            f"difference ours - ccusage: ${diff:.8f} -> "
            + ("agree to the cent" if agree else "DISAGREE")
        )
    per_model = compare_models(
        expected_by_model(manifest),
        ours_by_model(ours_report),
        ccusage_by_model(cc_report) if cc_report is not None else None,
    )
    out["per_model"] = per_model
    print_models(per_model, cc_report is not None)
    return out


def print_models(rows: list[dict[str, Any]], with_ccusage: bool) -> None:
    head = f"  {'model':28}{'expected $':>16}{'ours $':>16}"
    print(head + (f"{'ccusage $':>18}" if with_ccusage else ""))
    for r in rows:
        line = (
            f"  {r['model']:28}{Decimal(r['expected_usd']):>16.6f}{Decimal(r['ours_usd']):>16.6f}"
        )
        if with_ccusage:
            line += f"{float(r['ccusage_usd']):>18.6f}"
        print(line)
        for side in ("ours", "ccusage"):
            bad = r.get(f"{side}_token_mismatches")
            if bad:
                print(f"    {side} tokens differ from the ground truth: {bad}")


def print_profile(profile: dict[str, Any]) -> None:
    if "error" in profile:
        print(f"profile failed: {profile['error']}")
        return
    print(
        f"cProfile: {profile['wall_s_under_cprofile']} s wall under the profiler "
        f"({profile['profiled_total_s']} s profiled); cumulative time by phase:"
    )
    for p in profile["phases"]:
        print(f"  {p['phase']:48}{p['cumulative_s']:>9.2f} s")
    print("  top self time:")
    for f in profile["top_self_time"][:15]:
        print(f"    {f['self_s']:>8.2f} s  {f['calls']:>10,}  {f['function']}")


if __name__ == "__main__":
    sys.exit(main())
