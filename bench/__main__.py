"""`make bench`: rating throughput against LiteLLM's cost_per_token, measured in one run.

Prints records/s on the exact Decimal path, record x price-version pairs/s on the bulk
path (1M records x 20 versions by default), LiteLLM's records/s on a sample of the same
records, the ratio, and whether both give identical totals where they price the same
thing. Not a test: numbers vary by machine; nothing asserts on them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

# Models LiteLLM's July 2026 map prices exactly as our catalog does (same list prices), so
# totals can be compared one to one. (Our catalog differs on purpose elsewhere: see
# pricing-facts section 0.)
COMPARABLE = [
    "claude-haiku-4-5",
    "claude-sonnet-4-5",
    "claude-opus-4-5",
    "gpt-5",
    "gpt-4.1",
    "gpt-5-mini",
]


def setup_django() -> None:
    tmp = tempfile.mkdtemp(prefix="bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pricing_site.settings")
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("load_catalog", verbosity=0)


def synthetic_columns(n: int, models: list[str], seed: int):
    """Claude-Code-shaped records: mostly cache reads, some writes, short outputs."""
    from apps.rating.bulk import N_METERS, RecordColumns
    from apps.rating.engine import TOKEN_METERS

    rng = np.random.default_rng(seed)
    start = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp())
    tokens = np.zeros((n, N_METERS), dtype=np.int64)
    tokens[:, TOKEN_METERS.index("input")] = rng.integers(1, 4_000, n)
    tokens[:, TOKEN_METERS.index("cache_read")] = rng.integers(0, 150_000, n)
    model_code = rng.integers(0, len(models), n).astype(np.int32)
    claude = np.array([m.startswith("claude") for m in models])[model_code]
    # only Anthropic logs carry explicit 5-minute cache writes
    writes = rng.integers(0, 12_000, n) * (rng.random(n) < 0.3) * claude
    tokens[:, TOKEN_METERS.index("cache_write_5m")] = writes
    tokens[:, TOKEN_METERS.index("output")] = rng.integers(1, 3_000, n)
    return RecordColumns(
        models=models,
        model_code=model_code,
        ts=start + rng.integers(0, 200 * 86400, n),
        tokens=tokens,
        tier_code=np.zeros(n, dtype=np.int8),
        regions=[""],
        region_code=np.zeros(n, dtype=np.int16),
        web_search=np.zeros(n, dtype=np.int64),
        requests=np.ones(n, dtype=np.int64),
    )


def records_from_columns(cols, count: int):
    from apps.rating.engine import TOKEN_METERS, UsageRecord

    out = []
    for i in range(count):
        t = cols.tokens[i]
        out.append(
            UsageRecord(
                provider="",
                model=cols.models[cols.model_code[i]],
                timestamp=datetime.fromtimestamp(int(cols.ts[i]), tz=UTC),
                **{f"{m}_tokens": int(t[j]) for j, m in enumerate(TOKEN_METERS)},
            )
        )
    return out


def bench_decimal(book, records) -> dict:
    from apps.rating.summary import rate_all

    t0 = time.perf_counter()
    summary = rate_all(records, book)
    dt = time.perf_counter() - t0
    return {
        "records": len(records),
        "seconds": dt,
        "per_second": len(records) / dt,
        "summary": summary,
    }


def bench_bulk(book, cols, versions: int) -> dict:
    from apps.rating.bulk import rate_matrix, rate_time_of_use

    sheets = [items[-1] for _, items in sorted(book.sheets.items())][:versions]
    rate_matrix(cols, sheets[:1])  # warm-up
    t0 = time.perf_counter()
    result = rate_matrix(cols, sheets)
    dt = time.perf_counter() - t0
    t1 = time.perf_counter()
    tou = rate_time_of_use(cols, book)
    dt_tou = time.perf_counter() - t1
    return {
        "records": cols.n,
        "versions": len(sheets),
        "seconds": dt,
        "pairs_per_second": cols.n * len(sheets) / dt,
        "time_of_use_seconds": dt_tou,
        "time_of_use_per_second": cols.n / dt_tou,
        "time_of_use_total": str(tou.total),
        "matrix_total": str(result.total),
    }


def litellm_cost(litellm, record) -> float:
    # LiteLLM counts prompt_tokens including cache reads and writes (OpenAI style) and
    # subtracts the cached parts itself.
    prompt = record.input_tokens + record.cache_read_tokens + record.cache_write_5m_tokens
    inp, out = litellm.cost_per_token(
        model=record.model,
        prompt_tokens=prompt,
        completion_tokens=record.output_tokens,
        cache_read_input_tokens=record.cache_read_tokens,
        cache_creation_input_tokens=record.cache_write_5m_tokens,
    )
    return inp + out


def bench_litellm(records) -> dict:
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    t0 = time.perf_counter()
    import litellm

    import_seconds = time.perf_counter() - t0
    litellm_cost(litellm, records[0])  # warm caches, as a long-running process would be
    t0 = time.perf_counter()
    total = 0.0
    failures = 0
    for r in records:
        try:
            total += litellm_cost(litellm, r)
        except Exception:
            failures += 1
    dt = time.perf_counter() - t0
    return {
        "version": getattr(litellm, "version", None) or _dist_version("litellm"),
        "import_seconds": import_seconds,
        "records": len(records),
        "seconds": dt,
        "per_second": len(records) / dt,
        "total": total,
        "failures": failures,
    }


def _dist_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--bulk-records", type=int, default=1_000_000)
    parser.add_argument("--versions", type=int, default=20)
    parser.add_argument("--decimal-records", type=int, default=100_000)
    parser.add_argument("--litellm-records", type=int, default=5_000)
    parser.add_argument("--no-litellm", action="store_true")
    parser.add_argument("--imports", action="store_true", help="then bench.imports (vs ccusage)")
    parser.add_argument("--import-lines", type=int, help="corpus lines for --imports (implies it)")
    parser.add_argument("--only-imports", action="store_true", help="skip the rating benchmark")
    parser.add_argument(
        "--compare", action="store_true", help="then bench.compare (latency, replay)"
    )
    parser.add_argument("--only-compare", action="store_true", help="only bench.compare")
    args = parser.parse_args()
    status = 0
    if not (args.only_imports or args.only_compare):
        rating(args)
    if (args.imports or args.only_imports or args.import_lines) and not args.only_compare:
        from bench import imports

        lines = ["--lines", str(args.import_lines)] if args.import_lines else []
        status |= imports.main(lines)
    if args.compare or args.only_compare:
        # its own process: this one already set Django up on a scratch SQLite database
        status |= subprocess.run([sys.executable, "-m", "bench.compare"], cwd=ROOT).returncode
    sys.exit(status)


def rating(args: argparse.Namespace) -> None:
    setup_django()
    from apps.rating.adapter import published_book
    from apps.rating.summary import rate_all

    book = published_book()
    models = [m for m in COMPARABLE if book.resolve(m)]
    cols = synthetic_columns(args.bulk_records, models, seed=42)
    sample = records_from_columns(cols, max(args.decimal_records, args.litellm_records))

    dec = bench_decimal(book, sample[: args.decimal_records])
    bulk = bench_bulk(book, cols, args.versions)
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, NumPy {np.__version__}"
    )
    print(
        f"decimal path : {dec['per_second']:>14,.0f} records/s   ({dec['records']:,} records, exact Decimal)"
    )
    print(
        f"bulk path    : {bulk['pairs_per_second']:>14,.0f} record x version pairs/s   "
        f"({bulk['records']:,} records x {bulk['versions']} versions in {bulk['seconds']:.2f} s)"
    )
    print(
        f"bulk, time of use: {bulk['time_of_use_per_second']:>10,.0f} records/s   "
        f"(each record at its own day's version)"
    )
    results = {"decimal": {k: v for k, v in dec.items() if k != "summary"}, "bulk": bulk}
    if not args.no_litellm:
        lite_sample = sample[: args.litellm_records]
        lite = bench_litellm(lite_sample)
        ours = rate_all(lite_sample, book, None)
        ours_total = ours.total
        ratio = bulk["pairs_per_second"] / lite["per_second"]
        print(
            f"LiteLLM {lite['version']} cost_per_token: {lite['per_second']:>10,.0f} records/s   "
            f"({lite['records']:,} records; import took {lite['import_seconds']:.1f} s)"
        )
        print(f"ratio bulk / LiteLLM (per record-version): {ratio:,.0f}x   (target: >= 1,000x)")
        print(
            f"ratio decimal / LiteLLM (per record): {dec['per_second'] / lite['per_second']:,.1f}x"
        )
        diff = abs(Decimal(repr(lite["total"])) - ours_total)
        if ours.unpriced.records:
            print(
                f"  (ours left {ours.unpriced.records} records unpriced: {ours.unpriced.as_dict()['reasons']})"
            )
        print(
            f"totals on the same {lite['records']:,} records: ours ${ours_total:.6f} (exact), "
            f"LiteLLM ${lite['total']:.6f} (float), difference ${diff:.9f}"
            + (f"; LiteLLM failed on {lite['failures']} records" if lite["failures"] else "")
        )
        results["litellm"] = lite
        results["ratio_bulk_vs_litellm"] = ratio
        results["ours_total_on_litellm_sample"] = str(ours_total)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    stamp = datetime.now(UTC) - timedelta(microseconds=datetime.now(UTC).microsecond)
    (out / "results.json").write_text(
        json.dumps({"at": stamp.isoformat(), **results}, default=str, indent=2)
    )


if __name__ == "__main__":
    main()
