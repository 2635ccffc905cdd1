"""Alerts as Slack Block Kit messages, inside Slack's limits.

Why limits here and not left to Slack: Slack refuses a whole message whose
section text passes 3,000 characters, whose header passes 150, with more than
10 fields or 50 blocks, or (undocumented, measured by others at about 13,200)
whose blocks are too long together, and a refused alert is an alert nobody
sees. Text is cut with a visible ellipsis, origins beyond what fits are
counted in a last line, and the whole message is checked against a budget
before it leaves.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connectors.origin_flags import origin_flags
from streams.messages import Alert

__all__ = [
    "HEADER_MAX",
    "MESSAGE_BUDGET",
    "SECTION_MAX",
    "SlackMessage",
    "alert_message",
    "blocks_size",
    "evidence_reply",
    "item_links",
    "truncate",
]

HEADER_MAX = 150
SECTION_MAX = 3000
FIELDS_MAX = 10
FIELD_MAX = 2000
BLOCKS_MAX = 50
#: Total characters of block text we allow ourselves, under Slack's ~13,200.
MESSAGE_BUDGET = 12_000
#: Fallback ``text`` (notifications, screen readers).
TEXT_MAX = 3000

_MARK = {"CORROBORATED": ":white_check_mark:", "CONTESTED": ":warning:", "QUIET": ":zzz:"}


@dataclass(frozen=True, slots=True)
class SlackMessage:
    text: str
    blocks: list[dict[str, Any]]

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


def _escape(text: str) -> str:
    """Slack mrkdwn control characters, escaped as Slack asks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, SECTION_MAX)}}


def _origin_lines(origin: dict[str, Any], links: dict[str, str]) -> list[str]:
    sign = "+" if origin.get("stance") == "support" else "-"
    root = str(origin.get("root_item") or "")
    shown = f"<{links[root]}|{_escape(root)}>" if root in links else _escape(root)
    flags = origin_flags(origin)
    flag = f" _({_escape('; '.join(flags))})_" if flags else ""
    lines = [
        f"{sign} *{_escape(str(origin.get('source')))}* ({origin.get('kind')}, weight "
        f"{float(origin.get('weight', 0.0)):.2f}) via {shown}{flag}"
    ]
    echoes = list(origin.get("echoes") or [])
    for echo in echoes[:5]:
        lines.append(f"      ↳ {_escape(str(echo['item']))}: {_escape(str(echo['reason']))}")
    if len(echoes) > 5:
        lines.append(f"      ↳ … {len(echoes) - 5} more echoes")
    return lines


def blocks_size(blocks: Sequence[dict[str, Any]]) -> int:
    """Characters of text in ``blocks`` (what Slack's total-length limit counts)."""
    total = 0
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict):
            total += len(str(text.get("text", "")))
        for field in block.get("fields", []) or []:
            total += len(str(field.get("text", "")))
        for element in block.get("elements", []) or []:
            total += len(str(element.get("text", "")))
    return total


def item_links(alert: Alert) -> dict[str, str]:
    """Item id -> its URL, for the items the alert explains (web links only)."""
    return {
        str(e["item"]): str(e["url"])
        for e in alert.evidence
        if isinstance(e.get("url"), str) and str(e["url"]).startswith(("https://", "http://"))
    }


def alert_message(alert: Alert, links: dict[str, str] | None = None) -> SlackMessage:
    """The message for one alert version: claim, state, origins with echoes folded, contradictions.

    Each origin links to its first post where the item had a URL.
    """
    links = item_links(alert) if links is None else links
    if alert.state == "merged":
        text = f"Same claim as `{alert.merged_into}`: its {alert.items_total} items now count there."
        return SlackMessage(
            truncate(f"merged v{alert.version}: {alert.claim}", TEXT_MAX),
            [
                {"type": "header", "text": {"type": "plain_text", "text": "Merged into another claim"}},
                _section(f":link: {_escape(text)}\n*Claim:* {_escape(alert.claim)}"),
                _context(alert),
            ],
        )
    mark = _MARK.get(alert.state, ":grey_question:")
    head = f"{alert.state.title()}: {alert.independent_origins} independent origin(s)"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": truncate(f"{head}", HEADER_MAX)}},
        _section(f"{mark} *Claim:* {_escape(alert.claim)}"),
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": truncate(text, FIELD_MAX)}
                for text in (
                    f"*State*\n{alert.state} (v{alert.version})",
                    f"*Supporting*\n{alert.support_origins} origin(s), weight {alert.support_weight:.2f}",
                    f"*Denying*\n{alert.deny_origins} origin(s), weight {alert.deny_weight:.2f}",
                    f"*First seen*\n{_when(alert.first_seen)}",
                    f"*Items*\n{alert.items_total}",
                )
            ][:FIELDS_MAX],
        },
    ]
    support = [o for o in alert.origins if o.get("stance") == "support"]
    deny = [o for o in alert.origins if o.get("stance") == "deny"]
    for title, side in (("Supporting origins", support), ("Contradicting side", deny)):
        if not side:
            continue
        lines: list[str] = [f"*{title}*"]
        left = 0
        for n, origin in enumerate(side):
            more = _origin_lines(origin, links)
            if len("\n".join([*lines, *more])) > SECTION_MAX - 60:
                left = len(side) - n
                break
            lines += more
        if left:
            lines.append(f"… and {left} more origin(s)")
        blocks.append(_section("\n".join(lines)))
    for other in alert.contradicting[:3]:
        blocks.append(
            _section(
                f":left_right_arrow: Contradicted by claim `{other.get('cluster_id')}` "
                f"({other.get('cue')}): {_escape(str(other.get('claim', '')))}"
            )
        )
    blocks.append(_context(alert))
    blocks = _fit(blocks)
    text = truncate(f"{alert.state} v{alert.version}: {alert.claim}", TEXT_MAX)
    return SlackMessage(text, blocks)


def _context(alert: Alert) -> dict[str, Any]:
    """The alert's identity, last in every message (and what tests read back)."""
    ident = truncate(f"alert `{alert.alert_id}` · cluster `{alert.cluster_id}`", 300)
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": ident}]}


def _fit(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop origin sections from the end until the message fits Slack's block count and budget."""
    blocks = blocks[:BLOCKS_MAX]
    while blocks_size(blocks) > MESSAGE_BUDGET and len(blocks) > 4:
        del blocks[-2]  # keep header, claim, fields ... context
    return blocks


def evidence_reply(alert: Alert, known_origins: Collection[str]) -> SlackMessage:
    """A thread reply saying what changed: the state, and the origins not in ``known_origins``."""
    new = [o for o in alert.origins if str(o.get("origin_id")) not in known_origins]
    lines = [f"*v{alert.version}: {alert.state}*, {alert.independent_origins} independent origin(s)"]
    for origin in new[:10]:
        lines += _origin_lines(origin, {})[:1]
    if len(new) > 10:
        lines.append(f"… and {len(new) - 10} more new origin(s)")
    message = _section("\n".join(lines))
    return SlackMessage(truncate(f"{alert.state} v{alert.version}", TEXT_MAX), [message])
