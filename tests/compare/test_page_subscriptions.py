"""/compare/: the "Subscription or pay-per-token?" section for the chosen model."""

from __future__ import annotations

import json
import re

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.django_db
PAGE = "/compare/"
HTMX = {"HX-Request": "true"}
# Claude Haiku 4.5, no prefix: 1,000 x $1 / 1M + 200 x $5 / 1M = $0.002 a request
HAIKU = (
    "requests_per_month=10000&input_tokens=1000&output_tokens=200&cached_prefix_tokens=0"
    "&mean_gap_seconds=30&model=claude-haiku-4-5"
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def section(html: str) -> str:
    start = html.index('id="subscriptions"')
    return html[start : html.index("</section>", start)]


def row(html: str, plan: str) -> list[str]:
    found = re.search(rf'<tr data-plan="{plan}".*?</tr>', html, re.S)
    assert found, plan
    cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", found.group(0), re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c)).strip() for c in cells]


def test_the_section_shows_each_covering_plan_with_its_break_even(client):
    response = client.get(f"{PAGE}?{HAIKU}")
    assert response.status_code == 200
    html = section(response.content.decode())
    assert "Subscription or pay-per-token?" in html
    assert "<strong>$20.00</strong> a month on the API for 10,000 requests" in html
    # plan, vendor, price, capacity, break-even (20 / 0.002), covers up to, verdict
    assert row(html, "claude-pro")[:6] == ["Claude Pro", "Anthropic", "$20.00", "unknown capacity",
                                           "10,000", "—"]  # fmt: skip
    max20 = row(html, "claude-max-20x")
    assert max20[3] == "$2,108.57 – ? – $8,142.86" and max20[4] == "100,000"
    assert max20[5] == "1,054,286 – ? – 4,071,429"
    assert "Pay per token: $180.00 a month cheaper" in max20[6]
    copilot = row(html, "copilot-pro")  # $10 for $15 a month: break-even 5,000, covers 7,500
    assert copilot[2:6] == ["$10.00", "$15.00", "5,000", "7,500"]
    assert "Over its limit" in copilot[6]
    # Claude Enterprise's $0 pool stops covering before its break-even
    assert row(html, "claude-enterprise")[4].startswith("never")
    assert 'data-plan="chatgpt-plus"' not in html  # covers GPT models, not Claude

    figure = json.loads(
        re.search(
            r'<script id="breakeven-figure" type="application/json">(.*?)</script>', html, re.S
        ).group(1)  # fmt: skip
    )
    api = figure["data"][0]
    assert api["name"] == "Pay per token (Claude Haiku 4.5)" and api["x"][0] == 0
    # the API line: $0.002 a request; the x axis reaches 3 x the largest break-even
    assert api["y"][1] == pytest.approx(0.002 * api["x"][1])
    assert figure["layout"]["xaxis"]["range"][1] == pytest.approx(3 * 200 / 0.002)
    pro = next(t for t in figure["data"] if t["name"] == "Claude Pro (capacity unknown)")
    assert pro["y"] == [20, 20] and pro["line"]["dash"] == "dash"


def test_htmx_updates_the_section_with_the_rest(client):
    response = client.get(f"{PAGE}?{HAIKU.replace('input_tokens=1000', 'input_tokens=3000')}",
                          headers=HTMX)  # fmt: skip
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results"')
    # $0.003 + $0.001 = $0.004 a request: Claude Pro breaks even at 20 / 0.004 = 5,000
    assert row(section(html), "claude-pro")[4] == "5,000"
    assert 'id="breakeven-figure"' in html


def test_the_conversation_form_counts_conversations(client):
    query = ("form=conversation&conversations=10&turns=5&system_tokens=1000&user_tokens=100"
             "&tool_tokens=0&turn_output_tokens=100&model=claude-haiku-4-5")  # fmt: skip
    response = client.get(f"{PAGE}?{query}")
    assert response.status_code == 200, response.context["form"].errors
    html = section(response.content.decode())
    assert "for 10 conversations" in html and "Break-even (conversations / month)" in html
    # $0.01 a conversation (tests/compare/test_breakeven_api.py works it out): $20 / $0.01
    assert "$0.10</strong> a month on the API" in html and "$0.0100 per conversation" in html
    assert row(html, "claude-pro")[4] == "2,000"


def test_a_model_no_plan_covers_says_which_vendors_sell_plans(client):
    response = client.get(f"{PAGE}?model=deepseek-flash")
    html = section(response.content.decode())
    assert "No subscription covers DeepSeek models" in html
    assert "Anthropic (Claude)" in html and "Cursor (Claude, GPT, Gemini, Grok)" in html
    assert "breakeven-figure" not in html
