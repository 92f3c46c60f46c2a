"""Parsers for every supported log and export format, one module each.

Each module defines ``PARSER``, an object following ``base.Parser``. The order below is the
order of auto-detection: specific formats before generic ones.
"""

from __future__ import annotations

from importlib import import_module

from .base import Parser

PARSER_MODULES: dict[str, str] = {
    "claude_code": "apps.usage.formats.claude_code",
    "codex_cli": "apps.usage.formats.codex_cli",
    "openai_usage_api": "apps.usage.formats.openai_usage_api",
    "openai_dashboard_csv": "apps.usage.formats.openai_dashboard_csv",
    "anthropic_usage_report": "apps.usage.formats.anthropic_usage_report",
    "anthropic_console_csv": "apps.usage.formats.anthropic_console_csv",
    "openrouter": "apps.usage.formats.openrouter",
    "litellm_spend_logs": "apps.usage.formats.litellm_spend_logs",
    "generic_csv": "apps.usage.formats.generic_csv",
}


class UnknownFormatError(ValueError):
    pass


def get_parser(name: str) -> Parser:
    if name not in PARSER_MODULES:
        raise UnknownFormatError(
            f"unknown format {name!r}; known formats: {', '.join(PARSER_MODULES)}"
        )
    return import_module(PARSER_MODULES[name]).PARSER


def available_parsers() -> list[Parser]:
    """Every parser; a module that fails to import raises (never "not a recognised format")."""
    return [get_parser(name) for name in PARSER_MODULES]


def detect(head: bytes, filename: str) -> Parser:
    """The first parser that recognises the file, or a clear error naming what was expected."""
    for parser in available_parsers():
        if parser.sniff(head, filename):
            return parser
    expected = "; ".join(f"{p.name} ({p.description})" for p in available_parsers())
    raise UnknownFormatError(
        f"{filename}: not a recognised usage log or export. Expected one of: {expected}"
    )
