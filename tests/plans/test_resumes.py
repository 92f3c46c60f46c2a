"""Resumes in a log (pure): re-writes after an idle gap, priced above a warm read."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

from apps.plans.resumes import ResumeScanner
from apps.rating.engine import UsageRecord

from .test_resume import SONNET

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def req(minutes: float, session: str = "s1", **tokens: int) -> UsageRecord:
    return UsageRecord(provider="anthropic", model="claude-sonnet-4-5",
                       timestamp=T0 + timedelta(minutes=minutes), session_id=session, **tokens)  # fmt: skip


def test_a_request_after_the_ttl_that_rewrites_the_context_is_a_resume():
    scanner = scan(
        req(0, cache_write_5m_tokens=100_000, output_tokens=500),
        req(2, cache_read_tokens=100_000, cache_write_5m_tokens=1_000),  # warm: not a resume
        # 20 minutes idle: the whole 101,000-token prompt of the last request is written
        # again, plus 2,000 new ones; 101,000 of the writes are the premium's tokens:
        # 101,000 x ($3.75 - $0.30) = $0.34845 above reading them warm
        req(22, cache_write_5m_tokens=103_000, output_tokens=100),
    )
    [resume] = scanner.top
    assert resume.rewritten_tokens == 101_000 and resume.premium == D("0.34845")
    assert resume.idle == timedelta(minutes=20) and resume.ttl == "5m"
    assert resume.context_tokens == 103_000
    # the request's whole cost: 103,000 x $3.75 + 100 x $15 = $0.38625 + $0.0015
    assert resume.cost == D("0.38775")
    assert scanner.by_month == {date(2026, 3, 1): D("0.34845")}


def test_a_1_hour_cache_is_not_expired_after_20_minutes():
    scanner = scan(
        req(0, cache_write_1h_tokens=100_000),
        req(20, cache_read_tokens=100_000, cache_write_1h_tokens=500),
        req(81, cache_write_1h_tokens=100_600),  # 61 minutes later: expired
    )
    [resume] = scanner.top
    # 100,500 re-written x ($6 - $0.30) = $0.57285
    assert resume.ttl == "1h" and resume.rewritten_tokens == 100_500
    assert resume.premium == D("0.57285")


def test_requests_without_a_session_are_not_conversations():
    scanner = scan(
        req(0, session="", cache_write_5m_tokens=10), req(30, session="", cache_write_5m_tokens=10)
    )
    assert scanner.top == [] and scanner.total == D(0)


def test_only_the_ten_dearest_resumes_are_kept_dearest_first():
    records = [req(0, cache_write_5m_tokens=1_000)]
    for i in range(1, 13):  # twelve resumes, each after 10 idle minutes, growing contexts
        records.append(req(10 * i, cache_write_5m_tokens=1_000 * (i + 1)))
    top = scan(*records).top
    assert len(top) == 10
    assert [r.rewritten_tokens for r in top] == [1_000 * i for i in range(12, 2, -1)]


def scan(*records: UsageRecord) -> ResumeScanner:
    scanner = ResumeScanner()
    for record in records:
        scanner.add(record, SONNET)
    return scanner
