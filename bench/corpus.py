"""A deterministic Claude Code ``projects/`` tree for the import benchmark.

``python -m bench.corpus DEST [--lines N | --small] [--seed S]`` writes
``DEST/projects/<encoded-cwd>/<session>.jsonl`` (plus ``<session>/subagents/agent-*.jsonl``)
with exactly N lines in total, and ``DEST/manifest.json`` describing what was written.

Shapes follow shared/reference/log-formats.md section 1 and the real transcripts in
shared/samples/claude-code-jsonl/, written compactly (``separators=(",", ":")``, UTF-8, one
object per line) as Claude Code writes them:

* user prompts and tool results with large, varied text (tool results repeat their text in
  ``toolUseResult``, as Claude Code does), file-history snapshots, system lines;
* assistant responses streamed as 1-4 lines (one per content block) sharing ``message.id``
  and ``requestId``; early copies carry a partial ``output_tokens``, the last the final one;
  5-minute and 1-hour cache writes (``cache_creation.ephemeral_*``); ``service_tier``
  "standard"; a few ``<synthetic>`` API-error turns;
* many progress lines (hooks, bash output, and ``agent_progress`` lines embedding copies of
  sub-agent assistant messages with their usage, which must not be counted);
* sub-agent files, compaction agents, and resumed sessions that replay earlier responses
  into a new file (same ids: deduplication must be global).

Models are ones both our catalog and ccusage's embedded LiteLLM table price at the same
list price, released before the corpus (Feb-Mar 2026). Every request's prompt stays under
200K tokens so no long-context rule (which the two tools apply differently) can differ.

The manifest holds the ground truth: per-model token sums over the final copy of every
unique response actually written, and their cost at the list prices below.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

GENERATOR_VERSION = 1  # bump whenever the shapes change: cached corpora are then rebuilt
DEFAULT_LINES = 1_000_000
SMALL_LINES = 20_000
DEFAULT_SEED = 20260301
MAX_PROMPT_TOKENS = 180_000  # below the 200K long-context threshold, with margin

# USD per million tokens: input, output, cache read, 5-minute write, 1-hour write.
# Anthropic list prices; ccusage bills 1-hour writes at 2x input, which these equal.
LIST_PRICES: dict[str, tuple[str, str, str, str, str]] = {
    "claude-opus-4-6": ("5", "25", "0.50", "6.25", "10"),
    "claude-opus-4-5-20251101": ("5", "25", "0.50", "6.25", "10"),
    "claude-sonnet-4-5-20250929": ("3", "15", "0.30", "3.75", "6"),
    "claude-haiku-4-5-20251001": ("1", "5", "0.10", "1.25", "2"),
}
MAIN_MODELS = (
    ("claude-opus-4-6", 0.45),
    ("claude-sonnet-4-5-20250929", 0.25),
    ("claude-opus-4-5-20251101", 0.15),
    ("claude-haiku-4-5-20251001", 0.15),
)
HAIKU = "claude-haiku-4-5-20251001"
SONNET = "claude-sonnet-4-5-20250929"
SYNTHETIC = "<synthetic>"
TOKEN_FIELDS = ("input", "cache_read", "cache_write_5m", "cache_write_1h", "output")

START = datetime(2026, 2, 9, tzinfo=UTC)
LAST_SESSION_START = datetime(2026, 3, 27, tzinfo=UTC)  # sessions end well before April
PROJECTS = (
    "spotter", "spotter-worktrees/spotter-4te", "billing-api", "infra", "docs-site",
    "mobile-app", "data-pipeline", "llm-pricing", "ops-scripts", "web-frontend",
    "ml-experiments", "dotfiles",
)  # fmt: skip
VERSIONS = ("2.1.38", "2.1.39", "2.1.41", "2.1.45", "2.1.50")
TOOLS = (("Bash", 0.35), ("Read", 0.3), ("Edit", 0.15), ("Grep", 0.1), ("Task", 0.015))
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_WORDS = (
    "the", "function", "returns", "a", "value", "when", "called", "with", "config", "settings",
    "file", "path", "module", "import", "error", "test", "case", "should", "handle", "request",
    "response", "database", "query", "cache", "token", "model", "price", "job", "batch", "row",
    "column", "index", "server", "client", "session", "user", "agent", "worker", "task",
    "queue", "retry", "timeout", "stream", "parse", "line", "record", "usage", "cost", "total",
    "summary", "report", "daily", "déjà", "café", "naïve", "→", "•", "○", "✓", "中文", "日本語",
    "ünïcödé",
)  # fmt: skip
_CODE = (
    'def {w}(self, {x}: int) -> str:\n    return f"{{{x}}}"\n',
    '    if {w} is None:\n        raise ValueError("{x} must be set")\n',
    "{w} = [{x} for {x} in range(10) if {x} % 2]\n",
    '  File "/app/{w}.py", line 42, in {x}\n    {w}.{x}()\n',
    "SELECT {w}, count(*) FROM {x} WHERE path LIKE 'C:\\\\{w}\\\\%' GROUP BY 1;\n",
    '\t{w}: {{ "{x}": true, "limit": 100 }},\n',
    "-rw-r--r-- 1 user staff  4096 Feb 12 14:12 {w}_{x}.txt\n",
)


def _dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def encode_cwd(cwd: str) -> str:
    return cwd.replace("/", "-").replace(".", "-")


def _iso(ms: int) -> str:
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _mirrored(kind: str, body: dict[str, Any]) -> bool:
    """Which sub-agent lines Claude Code echoes into the parent as ``agent_progress``.

    As in the real transcripts: user lines (prompt, tool results) and assistant tool_use
    blocks; text and thinking blocks are not echoed. So a tool-using response's final
    streamed copy (its last block, a tool_use) is echoed, and a final answer is not.
    """
    if kind in ("user", "user_tool_result"):
        return True
    return kind == "assistant" and body["message"]["content"][0]["type"] == "tool_use"


class _Full(Exception):
    """The line budget is spent: generation stops here."""


@dataclass
class Totals:
    """Ground truth: the last-written copy of each unique response, by model."""

    responses: dict[str, tuple[str, tuple[int, ...]]] = field(default_factory=dict)

    def by_model(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for model, tokens in self.responses.values():
            row = out.setdefault(model, {"requests": 0, **dict.fromkeys(TOKEN_FIELDS, 0)})
            row["requests"] += 1
            for name, value in zip(TOKEN_FIELDS, tokens, strict=True):
                row[name] += value
        for model, row in out.items():
            row["cost_usd"] = str(list_cost(model, row))
        return dict(sorted(out.items()))


def list_cost(model: str, tokens: dict[str, int]) -> Decimal:
    prices = LIST_PRICES[model]
    fields = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")
    return sum(
        (Decimal(tokens[f]) * Decimal(p) for f, p in zip(fields, prices, strict=True)),
        Decimal(0),
    ) / Decimal(1_000_000)


class _Writer:
    """Owns the line budget, the open files and the ground truth."""

    def __init__(self, root: Path, budget: int) -> None:
        self.root = root
        self.left = budget
        self.files: dict[Path, TextIO] = {}
        self.file_count = 0
        self.kinds: dict[str, int] = {}
        self.totals = Totals()

    def write(self, path: Path, obj: dict[str, Any], kind: str) -> None:
        if self.left <= 0:
            raise _Full
        fh = self.files.get(path)
        if fh is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            fh = self.files[path] = path.open("a", encoding="utf-8", buffering=1 << 20)
            self.file_count += 1
        fh.write(_dumps(obj) + "\n")
        self.left -= 1
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        if kind == "assistant":
            self._count(obj)

    def _count(self, obj: dict[str, Any]) -> None:
        """Keep the largest copy of each response, as both tools do."""
        msg = obj["message"]
        u = msg["usage"]
        split = u["cache_creation"]
        tokens = (
            u["input_tokens"],
            u["cache_read_input_tokens"],
            split["ephemeral_5m_input_tokens"],
            split["ephemeral_1h_input_tokens"],
            u["output_tokens"],
        )
        key = f"{msg['id']}:{obj['requestId']}"
        seen = self.totals.responses.get(key)
        if seen is None or tokens[-1] > seen[1][-1]:
            self.totals.responses[key] = (msg["model"], tokens)

    def close(self, path: Path) -> None:
        fh = self.files.pop(path, None)
        if fh is not None:
            fh.close()

    def close_all(self) -> None:
        for path in list(self.files):
            self.close(path)


class _Random(random.Random):
    """Seeded randomness plus the id and text shapes Claude Code writes."""

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self.pool = self._pool(1_500_000)

    def _pool(self, size: int) -> str:
        parts: list[str] = []
        total = 0
        while total < size:
            if self.random() < 0.4:
                piece = self.choice(_CODE).format(w=self.choice(_WORDS), x=self.choice(_WORDS))
            else:
                words = self.choices(_WORDS, k=self.randint(6, 30))
                piece = " ".join(words).capitalize() + ". "
                if self.random() < 0.3:
                    piece += "\n\n"
            parts.append(piece)
            total += len(piece)
        return "".join(parts)

    def text(self, n: int) -> str:
        n = max(1, min(n, len(self.pool) - 1))
        start = self.randrange(len(self.pool) - n)
        return self.pool[start : start + n]

    def size(self, median: float, sigma: float, low: int, high: int) -> int:
        return int(min(high, max(low, self.lognormvariate(0, sigma) * median)))

    def uuid(self) -> str:
        h = f"{self.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"

    def b62(self, k: int) -> str:
        return "".join(self.choices(_B62, k=k))

    def hexid(self, k: int) -> str:
        return f"{self.getrandbits(4 * k):0{k}x}"

    def weighted(self, pairs: tuple[tuple[str, float], ...]) -> str:
        return self.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


@dataclass
class _Context:
    """Prompt-cache state of one conversation (main thread or sub-agent)."""

    cached: int
    pending: int
    ttl: str  # "5m", "1h" or "mixed"


class _Thread:
    """One transcript file: a main session or a sub-agent writing into its own file."""

    def __init__(
        self,
        gen: _Generator,
        path: Path,
        envelope: dict[str, Any],
        model: str,
        ctx: _Context,
        clock: list[int],
        parent: _Thread | None = None,
        mirror: dict[str, Any] | None = None,
        main: bool = False,
    ) -> None:
        self.gen, self.rng, self.w = gen, gen.rng, gen.writer
        self.path, self.env, self.model, self.ctx = path, envelope, model, ctx
        self.clock = clock  # shared with the parent: one wall clock per session
        self.parent, self.mirror = parent, mirror
        self.main = main  # only a main session compacts (a compaction agent never does)
        self.geo = ""
        self.last_uuid: str | None = None
        self.lines = 0
        self._tools: list[tuple[str, str]] = []

    # ------------------------------------------------------------------ plumbing

    def tick(self, low_ms: int, high_ms: int) -> str:
        self.clock[0] += self.rng.randint(low_ms, high_ms)
        return _iso(self.clock[0])

    def emit(self, body: dict[str, Any], kind: str, tail: dict[str, Any] | None = None) -> str:
        """Write one enveloped line; sub-agent lines are echoed to the parent as progress."""
        uid = self.rng.uuid()
        ts = self.tick(80, 2500)
        obj = {"parentUuid": self.last_uuid, **self.env, **body, "uuid": uid, "timestamp": ts}
        if tail:
            obj.update(tail)
        self.w.write(self.path, obj, kind)
        self.last_uuid = uid
        self.lines += 1
        if self.parent is not None and self.mirror is not None and _mirrored(kind, body):
            self.parent.agent_progress(obj, self.mirror)
        return uid

    def progress(self, data: dict[str, Any], tool_use_id: str, parent_tool: str) -> None:
        self.emit(
            {"type": "progress", "data": data},
            "progress",
            {"toolUseID": tool_use_id, "parentToolUseID": parent_tool},
        )

    def agent_progress(self, inner: dict[str, Any], mirror: dict[str, Any]) -> None:
        copy = {
            "type": inner["type"],
            "timestamp": inner["timestamp"],
            "message": inner["message"],
            "uuid": inner["uuid"],
        }
        if "requestId" in inner:
            copy["requestId"] = inner["requestId"]
        data = {
            "message": copy,
            "normalizedMessages": [],
            "type": "agent_progress",
            "prompt": mirror["prompt"],
            "agentId": mirror["agentId"],
        }
        self.emit(
            {"type": "progress", "data": data},
            "progress_agent",
            {"toolUseID": mirror["toolUseID"], "parentToolUseID": mirror["parentToolUseID"]},
        )

    def hook(self, event: str, tool: str = "") -> None:
        name = f"{event}:{tool or ('startup' if event == 'SessionStart' else 'prompt')}"
        cmd = self.rng.choice(
            (
                "/home/USER/.claude/hooks/tmux-waiting.sh clear",
                "cd ${CLAUDE_PLUGIN_ROOT}/hooks && bun run ./dist/on-tool-use.js",
                "${CLAUDE_PLUGIN_ROOT}/hooks/format-and-lint.sh --changed-only",
            )
        )
        data = {"type": "hook_progress", "hookEvent": event, "hookName": name, "command": cmd}
        tid = self.rng.uuid()
        self.progress(data, tid, tid)

    # ------------------------------------------------------------------ user side

    def snapshot(self) -> None:
        mid = self.rng.uuid()
        backups = {
            f"lib/{self.rng.choice(_WORDS)}_{i}.py": {
                "backupFileName": f"{self.rng.hexid(16)}@v{i + 1}",
                "version": i + 1,
                "backupTime": _iso(self.clock[0]),
            }
            for i in range(self.rng.randint(0, 4))
        }
        obj = {
            "type": "file-history-snapshot",
            "messageId": mid,
            "snapshot": {
                "messageId": mid,
                "trackedFileBackups": backups,
                "timestamp": _iso(self.clock[0]),
            },
            "isSnapshotUpdate": bool(backups),
        }
        self.w.write(self.path, obj, "snapshot")
        self.lines += 1

    def prompt(self, text: str | None = None) -> None:
        if text is None:
            text = self.rng.text(self.rng.size(900, 1.0, 20, 12_000))
        self.tick(5_000, 300_000)  # the user thinks before typing
        extra = {"thinkingMetadata": {"maxThinkingTokens": 31999}, "todos": []}
        self.emit({"type": "user", "message": {"role": "user", "content": text}}, "user", extra)
        self.ctx.pending += len(text) // 4
        if self.rng.random() < 0.15:  # a skill or CLAUDE.md injected as a meta user turn
            doc = self.rng.text(self.rng.size(3000, 0.6, 800, 16_000))
            content = [{"type": "text", "text": f"Base directory for this skill: /x\n\n{doc}"}]
            self.emit(
                {"type": "user", "message": {"role": "user", "content": content}},
                "user",
                {"isMeta": True},
            )
            self.ctx.pending += len(doc) // 4

    def tool_result(self, tool: str, tool_use_id: str, assistant_uuid: str) -> None:
        n = self.rng.size(1300, 1.1, 0, 40_000)
        text = self.rng.text(n) if n else ""
        is_error = self.rng.random() < 0.03
        if tool == "Bash":
            result: Any = {
                "stdout": text,
                "stderr": "",
                "interrupted": False,
                "isImage": False,
                "noOutputExpected": False,
            }
        elif tool == "Read":
            result = {
                "type": "text",
                "file": {
                    "filePath": f"/home/USER/src/{self.rng.choice(_WORDS)}.py",
                    "content": text,
                    "numLines": text.count("\n") + 1,
                    "startLine": 1,
                    "totalLines": text.count("\n") + 1,
                },
            }
        elif tool == "Task":
            result = {"status": "completed", "content": [{"type": "text", "text": text}]}
        else:
            result = text[:200] if self.rng.random() < 0.5 else {"result": text[:400]}
        block = {
            "tool_use_id": tool_use_id,
            "type": "tool_result",
            "content": text,
            "is_error": is_error,
        }
        self.emit(
            {"type": "user", "message": {"role": "user", "content": [block]}},
            "user_tool_result",
            {"toolUseResult": result, "sourceToolAssistantUUID": assistant_uuid},
        )
        self.ctx.pending += n // 4 + 20

    def system(self, subtype: str, extra: dict[str, Any]) -> None:
        self.emit({"type": "system", "subtype": subtype, **extra}, "system")

    # ------------------------------------------------------------------ assistant side

    def _usage(self, model: str, side: bool) -> tuple[int, int, int, int, int]:
        """(input, cache_read, write_5m, write_1h, final output) for one request."""
        rng = self.rng
        if side:  # a small side call (titles, summaries, bash safety checks)
            cached = rng.choice((0, 0, rng.randint(2000, 30_000)))
            writes = rng.randint(0, 4000) if cached else 0
            inp = rng.randint(30, 4000)
            return inp, cached, writes, 0, rng.randint(5, 400)
        ctx = self.ctx
        inp = rng.randint(1, 12) if rng.random() < 0.9 else rng.randint(100, 6000)
        writes = max(ctx.pending, rng.randint(50, 400))
        if ctx.cached + writes + inp + 20_000 > MAX_PROMPT_TOKENS:
            writes = min(writes, MAX_PROMPT_TOKENS - 20_000 - ctx.cached - inp)
            writes = max(writes, 0)
        output = rng.size(220, 1.2, 1, 12_000)
        ttl = ctx.ttl if ctx.ttl != "mixed" else rng.choice(("5m", "1h"))
        w1h = writes if ttl == "1h" else 0
        if ctx.ttl == "mixed" and writes > 10:
            w1h = rng.randint(0, writes)
        read = ctx.cached
        ctx.cached += writes + inp
        ctx.pending = output
        return inp, read, writes - w1h, w1h, output

    def respond(self, tools: int, model: str | None = None, side: bool = False) -> list[str]:
        """Stream one response (1-4 lines). Returns the uuids of its tool_use lines."""
        rng = self.rng
        model = model or self.model
        if rng.random() < 0.003:
            self.synthetic()
            return []
        if not side and self.ctx.cached + self.ctx.pending > MAX_PROMPT_TOKENS - 25_000:
            if self.main:
                self.compact()
            else:  # a sub-agent near its limit: Claude Code trims it; start small again
                self.ctx.cached, self.ctx.pending = 0, self.rng.randint(8_000, 16_000)
        inp, read, w5m, w1h, out = self._usage(model, side)
        blocks: list[dict[str, Any]] = []
        if rng.random() < 0.45:
            thought = rng.text(rng.size(300, 1.0, 20, 4000))
            blocks.append({"type": "thinking", "thinking": thought, "signature": rng.b62(300)})
        if rng.random() < 0.7 or tools == 0:
            blocks.append({"type": "text", "text": rng.text(rng.size(250, 1.1, 2, 6000))})
        self._tools = []
        for _ in range(min(tools, 4 - len(blocks))):
            name = rng.weighted(TOOLS) if not self.mirror else rng.choice(("Bash", "Read", "Grep"))
            block = self._tool_use(name)
            self._tools.append((name, block["id"]))
            blocks.append(block)
        msg_id, req_id = f"msg_01{rng.b62(22)}", f"req_011C{rng.b62(20)}"
        partial = rng.randint(1, 12)
        tool_uuids: list[str] = []
        for i, block in enumerate(blocks):
            last = i == len(blocks) - 1
            usage = self._usage_obj(inp, read, w5m, w1h, out if last else min(partial, out), last)
            stop = ("tool_use" if self._tools else "end_turn") if last else None
            message = {
                "model": model,
                "id": msg_id,
                "type": "message",
                "role": "assistant",
                "content": [block],
                "stop_reason": stop,
                "stop_sequence": None,
                "usage": usage,
            }
            uid = self.emit(
                {"message": message, "requestId": req_id, "type": "assistant"}, "assistant"
            )
            if block["type"] == "tool_use":
                tool_uuids.append(uid)
        return tool_uuids

    def _usage_obj(
        self, inp: int, read: int, w5m: int, w1h: int, out: int, final: bool
    ) -> dict[str, Any]:
        geo = self.geo
        if final:
            return {
                "input_tokens": inp,
                "cache_creation_input_tokens": w5m + w1h,
                "cache_read_input_tokens": read,
                "output_tokens": out,
                "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
                "service_tier": "standard",
                "cache_creation": {
                    "ephemeral_1h_input_tokens": w1h,
                    "ephemeral_5m_input_tokens": w5m,
                },
                "inference_geo": geo,
                "iterations": [],
            }
        return {
            "input_tokens": inp,
            "cache_creation_input_tokens": w5m + w1h,
            "cache_read_input_tokens": read,
            "cache_creation": {"ephemeral_5m_input_tokens": w5m, "ephemeral_1h_input_tokens": w1h},
            "output_tokens": out,
            "service_tier": "standard",
            "inference_geo": geo,
        }

    def _tool_use(self, name: str) -> dict[str, Any]:
        rng = self.rng
        if name == "Bash":
            args: dict[str, Any] = {
                "command": f"cd /home/USER/src && {rng.choice(_WORDS)} --{rng.choice(_WORDS)}",
                "description": rng.text(rng.randint(20, 80)),
            }
        elif name == "Edit":
            args = {
                "file_path": f"/home/USER/src/{rng.choice(_WORDS)}.py",
                "old_string": rng.text(rng.size(300, 0.8, 10, 3000)),
                "new_string": rng.text(rng.size(350, 0.8, 10, 3500)),
            }
        elif name == "Task":
            args = {
                "description": "Research " + rng.choice(_WORDS),
                "prompt": rng.text(rng.size(600, 0.6, 100, 3000)),
                "subagent_type": "general-purpose",
            }
        else:
            args = {"file_path": f"/home/USER/src/{rng.choice(_WORDS)}.py"}
        return {
            "type": "tool_use",
            "id": f"toolu_01{rng.b62(22)}",
            "name": name,
            "input": args,
            "caller": {"type": "direct"},
        }

    def synthetic(self) -> None:
        """Claude Code's local API-error turn: model <synthetic>, zero usage."""
        message = {
            "id": self.rng.uuid(),
            "container": None,
            "model": SYNTHETIC,
            "role": "assistant",
            "stop_reason": "stop_sequence",
            "stop_sequence": "",
            "type": "message",
            "usage": {
                "input_tokens": 0,
                "output_tokens": 0,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
                "service_tier": None,
                "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0},
            },
            "content": [{"type": "text", "text": "API Error: 529 Overloaded. Retrying soon."}],
        }
        self.emit(
            {"type": "assistant", "message": message},
            "synthetic",
            {"isApiErrorMessage": True, "error": "overloaded_error"},
        )

    # ------------------------------------------------------------------ flows

    def step(self, tools: int) -> None:
        """One model call and the tools it asked for."""
        tool_uuids = self.respond(tools)
        if not tool_uuids:
            return
        for (name, tid), auuid in zip(self._tools, tool_uuids, strict=True):
            for _ in range(self.rng.choice((0, 1, 1, 2))):
                self.hook("PreToolUse", name)
            if name == "Bash":
                self.bash_progress(tid)
            elif name == "Task" and self.parent is None:
                self.gen.subagent(self, tid, auuid)
            self.tool_result(name, tid, auuid)
            for _ in range(self.rng.choice((0, 1, 1, 2))):
                self.hook("PostToolUse", name)

    def bash_progress(self, tool_use_id: str) -> None:
        seen = ""
        for i in range(self.rng.choice((0, 0, 1, 2, 3, 5, 8))):
            out = self.rng.text(self.rng.randint(20, 160))
            seen = (seen + "\n" + out)[-400:]
            data = {
                "type": "bash_progress",
                "output": out,
                "fullOutput": seen,
                "elapsedTimeSeconds": i + 2,
                "totalLines": seen.count("\n") + 1,
                "timeoutMs": 120000,
            }
            self.progress(data, f"bash-progress-{i}", tool_use_id)

    def turn(self) -> None:
        rng = self.rng
        if rng.random() < 0.5:
            self.snapshot()
        self.prompt()
        for _ in range(rng.choice((0, 1, 1, 2))):
            self.hook("UserPromptSubmit")
        for _ in range(rng.randint(1, 14)):
            if self.model != HAIKU and rng.random() < 0.2:
                self.respond(0, HAIKU, side=True)
            self.step(rng.choice((1, 1, 1, 2, 2, 3)))
        self.step(0)
        self.system(
            "stop_hook_summary",
            {
                "hookCount": 2,
                "hookInfos": [{"command": "/home/USER/.claude/hooks/tmux-waiting.sh mark"}],
                "hookErrors": [],
                "preventedContinuation": False,
                "stopReason": "",
                "hasOutput": True,
                "level": "suggestion",
            },
        )
        self.system("turn_duration", {"durationMs": rng.randint(2_000, 1_500_000), "isMeta": False})

    def compact(self) -> None:
        """Context nearly full: a compaction agent summarises, the context restarts small."""
        self.gen.compaction(self)
        self.system(
            "compact_boundary",
            {
                "content": "Conversation compacted",
                "isMeta": False,
                "level": "info",
                "compactMetadata": {"trigger": "auto", "preTokens": self.ctx.cached},
            },
        )
        summary = self.rng.text(self.rng.size(4000, 0.5, 1500, 12_000))
        self.emit(
            {"type": "user", "message": {"role": "user", "content": summary}},
            "user",
            {"isCompactSummary": True, "isVisibleInTranscriptOnly": True},
        )
        self.ctx.cached = 0
        self.ctx.pending = self.rng.randint(14_000, 26_000)


class _Generator:
    def __init__(self, root: Path, lines: int, seed: int) -> None:
        self.root = root
        self.rng = _Random(seed)
        self.writer = _Writer(root, lines)
        self.sessions = 0
        self.subagents = 0
        self.replays = 0
        self.history: dict[str, list[dict[str, Any]]] = {}  # project -> replayable lines

    def run(self) -> None:
        projects = [f"/home/USER/projects/{p}" for p in PROJECTS]
        weights = [self.rng.uniform(0.3, 3.0) for _ in projects]
        span = int((LAST_SESSION_START - START).total_seconds() * 1000)
        start_ms = int(START.timestamp() * 1000)
        try:
            while True:
                cwd = self.rng.choices(projects, weights=weights)[0]
                self.session(cwd, start_ms + self.rng.randrange(span))
        except _Full:
            pass
        finally:
            self.writer.close_all()

    def session(self, cwd: str, start_ms: int) -> None:
        rng = self.rng
        sid = rng.uuid()
        path = self.root / "projects" / encode_cwd(cwd) / f"{sid}.jsonl"
        version = rng.choice(VERSIONS)
        env = {
            "isSidechain": False,
            "userType": "external",
            "cwd": cwd,
            "sessionId": sid,
            "version": version,
            "gitBranch": rng.choice(("main", "develop", f"feature-{rng.hexid(4)}")),
            "slug": "-".join(rng.choices(("lexical", "painting", "whisper", "amber", "river",
                                           "quiet", "falcon", "orbit"), k=3)),
        }  # fmt: skip
        ttl = "1h" if version == "2.1.38" else rng.choice(("5m", "5m", "1h", "mixed"))
        ctx = _Context(cached=0, pending=rng.randint(12_000, 24_000), ttl=ttl)
        model = rng.weighted(MAIN_MODELS)
        thread = _Thread(self, path, env, model, ctx, [start_ms], main=True)
        thread.geo = rng.choice(("", "", "global", "not_available"))
        self.sessions += 1
        target = rng.size(1400, 0.8, 120, 12_000)
        try:
            thread.snapshot()
            thread.hook("SessionStart")
            if self.history.get(cwd) and rng.random() < 0.08:
                self.replay(thread, self.history[cwd])
            while thread.lines < target:
                thread.turn()
        finally:
            self.writer.close_all()
            self.history[cwd] = self._replayable(path)

    def _replayable(self, path: Path) -> list[dict[str, Any]]:
        """The last assistant lines of a finished session, for a later resumed session."""
        if not path.exists() or self.rng.random() > 0.3:
            return []
        tail: list[dict[str, Any]] = []
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if '"type":"assistant"' not in line:
                    continue
                obj = json.loads(line)
                if obj["type"] == "assistant" and obj["message"]["model"] != SYNTHETIC:
                    tail.append(obj)
                    tail = tail[-60:]
        return tail

    def replay(self, thread: _Thread, lines: list[dict[str, Any]]) -> None:
        """A resumed session copies earlier responses (same ids) into its new file."""
        self.replays += 1
        for obj in lines:
            copy = {**obj, "sessionId": thread.env["sessionId"], "parentUuid": thread.last_uuid}
            self.writer.write(thread.path, copy, "assistant")
            thread.last_uuid = copy["uuid"]
            thread.lines += 1

    def subagent(self, parent: _Thread, tool_use_id: str, assistant_uuid: str) -> None:
        rng = self.rng
        agent_id = rng.hexid(7)
        path = parent.path.with_suffix("") / "subagents" / f"agent-{agent_id}.jsonl"
        env = {**parent.env, "isSidechain": True, "agentId": agent_id}
        model = rng.choice((SONNET, SONNET, HAIKU, parent.model))
        ctx = _Context(cached=0, pending=rng.randint(10_000, 18_000), ttl="5m")
        prompt = rng.text(rng.size(700, 0.6, 100, 3000))
        mirror = {
            "prompt": prompt[:200],
            "agentId": agent_id,
            "toolUseID": f"agent_msg_01{rng.b62(22)}",
            "parentToolUseID": tool_use_id,
        }
        child = _Thread(self, path, env, model, ctx, parent.clock, parent, mirror)
        child.geo = parent.geo
        self.subagents += 1
        child.prompt(prompt)
        for _ in range(rng.randint(2, 14)):
            child.step(rng.choice((1, 1, 2)))
        child.step(0)
        self.writer.close(path)

    def compaction(self, parent: _Thread) -> None:
        rng = self.rng
        agent_id = f"acompact-{rng.hexid(6)}"
        path = parent.path.with_suffix("") / "subagents" / f"agent-{agent_id}.jsonl"
        env = {**parent.env, "isSidechain": True, "agentId": agent_id}
        ctx = _Context(cached=parent.ctx.cached, pending=parent.ctx.pending, ttl=parent.ctx.ttl)
        child = _Thread(self, path, env, parent.model, ctx, parent.clock)
        child.geo = parent.geo
        self.subagents += 1
        child.prompt(rng.text(rng.size(9000, 0.4, 4000, 30_000)))
        child.respond(0)
        self.writer.close(path)


# --------------------------------------------------------------------------- entry points


def generate(dest: Path, lines: int = DEFAULT_LINES, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """Write the corpus under ``dest`` (emptied first) and return its manifest."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    t0 = time.perf_counter()
    gen = _Generator(dest, lines, seed)
    gen.run()
    files = sorted(p for p in (dest / "projects").rglob("*.jsonl"))
    size = sum(p.stat().st_size for p in files)
    written = lines - gen.writer.left
    by_model = gen.writer.totals.by_model()
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "lines": written,
        "bytes": size,
        "mb": round(size / 1e6, 1),
        "bytes_per_line": round(size / max(written, 1)),
        "files": len(files),
        "subagent_files": sum(1 for p in files if p.parent.name == "subagents"),
        "projects": len(list((dest / "projects").iterdir())),
        "sessions": gen.sessions,
        "resumed_sessions": gen.replays,
        "lines_by_kind": dict(sorted(gen.writer.kinds.items())),
        "unique_responses": sum(r["requests"] for r in by_model.values()),
        "expected": {
            "by_model": by_model,
            "total_cost_usd": str(
                sum((Decimal(r["cost_usd"]) for r in by_model.values()), Decimal(0))
            ),
        },  # fmt: skip
        "generated_seconds": round(time.perf_counter() - t0, 1),
    }
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def cached_manifest(dest: Path, lines: int, seed: int) -> dict[str, Any] | None:
    """The manifest of a complete corpus built with these parameters, else None."""
    try:
        manifest = json.loads((dest / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    same = (
        manifest.get("generator_version") == GENERATOR_VERSION
        and manifest.get("seed") == seed
        and manifest.get("lines") == lines
    )
    return manifest if same and (dest / "projects").is_dir() else None


def ensure(dest: Path, lines: int, seed: int = DEFAULT_SEED) -> tuple[dict[str, Any], bool]:
    """(manifest, reused): reuse the corpus at ``dest`` if it matches, else generate it."""
    manifest = cached_manifest(dest, lines, seed)
    if manifest is not None:
        return manifest, True
    return generate(dest, lines, seed), False


def iter_files(dest: Path) -> Iterator[Path]:
    yield from sorted((dest / "projects").rglob("*.jsonl"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.corpus", description=__doc__)
    parser.add_argument("dest", type=Path, help="folder to write (it will contain projects/)")
    parser.add_argument("--lines", type=int, default=DEFAULT_LINES)
    parser.add_argument("--small", action="store_true", help=f"{SMALL_LINES:,} lines")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    lines = SMALL_LINES if args.small else args.lines
    manifest = generate(args.dest, lines, args.seed)
    summary = {k: v for k, v in manifest.items() if k != "expected"}
    summary["expected_total_cost_usd"] = manifest["expected"]["total_cost_usd"]
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
