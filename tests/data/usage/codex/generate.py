"""Writes the generated Codex CLI sample next to this file (see README.md).

Run: .venv/bin/python tests/data/usage/codex/generate.py   (deterministic: same bytes)
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
DAY = HERE / "sessions" / "2026" / "03" / "02"

PARENT = "0199a1b2-7c3d-7e4f-9a5b-1c2d3e4f5a6b"
CHILD = "0199a1f0-2b4c-7d5e-8f6a-7b8c9d0e1f2a"
CWD = "/home/USER/projects/invoice-service"

RATE_LIMITS = {
    "primary": {"used_percent": 4.0, "window_minutes": 300, "resets_at": 1772459700},
    "secondary": {"used_percent": 11.0, "window_minutes": 10080, "resets_at": 1772928000},
}


def usage(inp: int, cached: int, out: int, reasoning: int) -> dict[str, int]:
    # OpenAI meaning: input includes cached, output includes reasoning; total = input + output
    return {
        "input_tokens": inp,
        "cached_input_tokens": cached,
        "output_tokens": out,
        "reasoning_output_tokens": reasoning,
        "total_tokens": inp + out,
    }


def line(ts: str, kind: str, payload: dict) -> str:
    return json.dumps({"timestamp": ts, "type": kind, "payload": payload}, separators=(",", ":"))


def token_count(ts: str, total: tuple[int, ...], last: tuple[int, ...]) -> str:
    info = {
        "total_token_usage": usage(*total),
        "last_token_usage": usage(*last),
        "model_context_window": 272000,
    }
    return line(ts, "event_msg", {"type": "token_count", "info": info, "rate_limits": RATE_LIMITS})


def session_meta(ts: str, session: str, **extra: object) -> str:
    payload = {
        "id": session,
        "timestamp": ts,
        "cwd": CWD,
        "originator": "codex_cli_rs",
        "cli_version": "0.77.0",
        "instructions": None,
        "source": "cli",
        "model_provider": "openai",
        "git": {"commit_hash": "4f1c2e9", "branch": "main"},
        **extra,
    }
    return line(ts, "session_meta", payload)


def turn_context(ts: str, model: str) -> str:
    return line(
        ts,
        "turn_context",
        {
            "cwd": CWD,
            "approval_policy": "on-request",
            "sandbox_policy": {"type": "workspace-write", "network_access": False},
            "model": model,
            "effort": "medium",
            "summary": "auto",
        },
    )


def user(ts: str, text: str) -> list[str]:
    return [
        line(
            ts,
            "response_item",
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]},
        ),
        line(ts, "event_msg", {"type": "user_message", "message": text, "images": []}),
    ]


def reasoning(ts: str, summary: str) -> str:
    return line(
        ts,
        "response_item",
        {
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": summary}],
            "content": None,
            "encrypted_content": "gAAAAABpZ" + "x" * 600,
        },
    )


def shell(ts: str, call_id: str, command: str, output: str) -> list[str]:
    arguments = json.dumps({"command": ["bash", "-lc", command], "workdir": CWD})
    result = json.dumps({"output": output, "metadata": {"exit_code": 0, "duration_seconds": 0.2}})
    return [
        line(
            ts,
            "response_item",
            {"type": "function_call", "name": "shell", "arguments": arguments, "call_id": call_id},
        ),
        line(
            ts,
            "response_item",
            {"type": "function_call_output", "call_id": call_id, "output": result},
        ),
    ]


def answer(ts: str, text: str) -> list[str]:
    return [
        line(ts, "event_msg", {"type": "agent_message", "message": text}),
        line(
            ts,
            "response_item",
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text}],
            },
        ),
    ]


# Model calls of the parent session: (input incl. cached, cached, output incl. reasoning,
# reasoning). Cumulative totals are their running sums.
CALL_1 = (12840, 0, 410, 256)
CALL_2 = (14102, 12672, 188, 64)
CALL_3 = (15230, 13952, 902, 512)
CALL_4 = (44010, 41984, 350, 128)  # the fork's own call


def add(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(x + y for x, y in zip(a, b, strict=True))


TOTAL_1 = CALL_1
TOTAL_2 = add(TOTAL_1, CALL_2)
TOTAL_3 = add(TOTAL_2, CALL_3)
TOTAL_4 = add(TOTAL_3, CALL_4)


def parent_history(stamp) -> list[str]:
    """The parent's usage-bearing history; `stamp(i)` gives each line's timestamp."""
    out: list[str] = []
    out.append(turn_context(stamp(0), "gpt-5.1-codex"))
    out += user(stamp(1), "The invoice totals are off by a cent. Find out why and fix it.")
    out.append(
        line(
            stamp(2), "event_msg", {"type": "token_count", "info": None, "rate_limits": RATE_LIMITS}
        )
    )
    out.append(reasoning(stamp(3), "**Inspecting rounding in totals**"))
    out += shell(stamp(4), "call_7Qm2", "rg -n 'round' src/", "src/totals.py:41: round(x, 2)")
    out.append(token_count(stamp(5), TOTAL_1, CALL_1))
    out.append(reasoning(stamp(6), "**Switching to Decimal quantize**"))
    out += shell(stamp(7), "call_8Rn3", "pytest -q tests/test_totals.py", "4 passed")
    out.append(token_count(stamp(8), TOTAL_2, CALL_2))
    # Codex re-emits the same counter (a UI / rate-limit refresh): not a new call.
    out.append(token_count(stamp(9), TOTAL_2, CALL_2))
    out += answer(stamp(10), "Totals now use Decimal.quantize(ROUND_HALF_UP); tests pass.")
    out.append(turn_context(stamp(11), "gpt-5.1-codex-mini"))
    out += user(stamp(12), "Summarise the change for the changelog.")
    out.append(token_count(stamp(13), TOTAL_3, CALL_3))
    out += answer(stamp(14), "Fixed: invoice totals are rounded half-up to the cent.")
    return out


def write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parent_times = [
        f"2026-03-02T10:15:{s:02d}.{(100 + 37 * s) % 1000:03d}Z" for s in range(0, 45, 3)
    ]
    parent = [session_meta("2026-03-02T10:15:00.000Z", PARENT)]
    parent += parent_history(lambda i: parent_times[i])
    write(DAY / f"rollout-2026-03-02T10-15-00-{PARENT}.jsonl", parent)

    # The fork replays the parent's history with timestamps rewritten to the fork instant
    # (ccusage #1370), after its own metadata and a copy of the parent's.
    fork = "2026-03-02T11:00:00.000Z"
    child = [
        session_meta(fork, CHILD, forked_from_id=PARENT),
        session_meta("2026-03-02T10:15:00.000Z", PARENT),
    ]
    child += parent_history(lambda i: f"2026-03-02T11:00:00.{i + 1:03d}Z")
    child.append(turn_context("2026-03-02T11:00:09.412Z", "gpt-5.1-codex"))
    child += user("2026-03-02T11:00:09.412Z", "Also add a regression test for 2.675.")
    child.append(reasoning("2026-03-02T11:00:14.880Z", "**Adding a half-up test case**"))
    child.append(token_count("2026-03-02T11:00:15.020Z", TOTAL_4, CALL_4))
    child += answer("2026-03-02T11:00:15.300Z", "Added test_rounds_2_675_up.")
    write(DAY / f"rollout-2026-03-02T11-00-00-{CHILD}.jsonl", child)


if __name__ == "__main__":
    main()
