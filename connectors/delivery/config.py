"""Destinations and routing rules, from one TOML file; secrets from the environment or files.

Why secrets are never literal in the file: the file is configuration that
lives in repositories and tickets, while a Slack webhook URL or bot token is
a credential. A destination names the variable (``url_env``) or the file
(``url_file``, e.g. a mounted Kubernetes secret) that holds it; the value is
wrapped in ``Secret`` so that it prints as ``***`` in reprs, logs and errors.

::

    [[destination]]
    name = "desk"                     # slack-webhook: incoming webhook, Block Kit
    type = "slack-webhook"
    url_env = "SLACK_WEBHOOK_URL"
    rate_per_second = 1.0             # Slack: about one message a second per webhook
    burst = 3

    [[destination]]
    name = "desk-bot"                 # slack-api: one message per claim, updated in place
    type = "slack-api"
    token_file = "/run/secrets/slack-bot-token"
    channel = "C0123456789"
    base_url = "https://slack.com/api"

    [[destination]]
    name = "partner"                  # webhook: JSON, HMAC-SHA256 signed
    type = "webhook"
    url_env = "PARTNER_WEBHOOK_URL"
    secret_env = "PARTNER_WEBHOOK_SECRET"

    [[route]]                         # every matching route's destinations get the alert
    to = ["desk", "desk-bot"]
    states = ["CORROBORATED", "CONTESTED", "QUIET"]
    topics = ["afghanistan"]          # any of the claim's topic tags (absent: any)
    keywords = ["panjshir"]           # any, case-insensitive, in the claim (absent: any)
    min_weight = 0.5                  # the heavier side's weight
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.errors import DeliveryConfigError
from connectors.secrets import Secret, read_secret
from streams.messages import Alert
from streams.tomlfile import read_toml

__all__ = [
    "KINDS",
    "DeliveryConfig",
    "DestinationConfig",
    "Route",
    "Secret",
    "load_delivery_config",
]

KINDS = ("slack-webhook", "slack-api", "webhook")


@dataclass(frozen=True, slots=True)
class DestinationConfig:
    name: str
    kind: str
    url: Secret | None = None
    token: Secret | None = None
    secret: Secret | None = None
    channel: str | None = None
    base_url: str = "https://slack.com/api"
    rate_per_second: float = 1.0
    burst: float = 3.0
    max_attempts: int = 6
    timeout_seconds: float = 10.0
    repeat_on_5xx: bool = False
    """Incoming webhooks only: repeat a post after a 5xx (it may have been posted)."""

    def secrets(self) -> list[str]:
        return [s.reveal() for s in (self.url, self.token, self.secret) if s is not None and s.reveal()]


@dataclass(frozen=True, slots=True)
class Route:
    to: tuple[str, ...]
    states: frozenset[str] | None = None
    topics: frozenset[str] | None = None
    keywords: tuple[str, ...] | None = None
    min_weight: float = 0.0

    def matches(self, alert: Alert) -> bool:
        if self.states is not None and alert.state not in self.states:
            return False
        if self.topics is not None and self.topics.isdisjoint(alert.topics):
            return False
        if self.keywords is not None:
            claim = alert.claim.casefold()
            if not any(k in claim for k in self.keywords):
                return False
        return max(alert.support_weight, alert.deny_weight) >= self.min_weight or alert.state == "merged"


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    destinations: dict[str, DestinationConfig] = field(default_factory=dict)
    routes: tuple[Route, ...] = ()

    def targets(self, alert: Alert) -> list[str]:
        """Destination names for ``alert``, each once, in configuration order."""
        wanted = {name for route in self.routes if route.matches(alert) for name in route.to}
        return [name for name in self.destinations if name in wanted]

    def secrets(self) -> list[str]:
        return [s for d in self.destinations.values() for s in d.secrets()]


def _secret(raw: Mapping[str, Any], key: str, env: Mapping[str, str], where: str) -> Secret | None:
    return read_secret(raw, key, env, where, DeliveryConfigError)


_REQUIRED = {"slack-webhook": ("url",), "slack-api": ("token",), "webhook": ("url", "secret")}


def _destination(raw: Mapping[str, Any], env: Mapping[str, str], n: int) -> DestinationConfig:
    name = raw.get("name")
    where = f"[[destination]] #{n + 1}" + (f" ({name})" if name else "")
    if not isinstance(name, str) or not name:
        raise DeliveryConfigError(f"{where}: needs a name")
    kind = raw.get("type")
    if kind not in KINDS:
        raise DeliveryConfigError(f"{where}: type {kind!r} is not one of {', '.join(KINDS)}")
    secrets = {key: _secret(raw, key, env, where) for key in ("url", "token", "secret")}
    for key in _REQUIRED[str(kind)]:
        if secrets[key] is None:
            raise DeliveryConfigError(f"{where}: type {kind} needs {key}_env or {key}_file")
    if kind == "slack-api" and not raw.get("channel"):
        raise DeliveryConfigError(f"{where}: type slack-api needs a channel id")
    try:
        return DestinationConfig(
            name=name,
            kind=str(kind),
            url=secrets["url"],
            token=secrets["token"],
            secret=secrets["secret"],
            channel=str(raw["channel"]) if raw.get("channel") else None,
            base_url=str(raw.get("base_url", "https://slack.com/api")).rstrip("/"),
            rate_per_second=float(raw.get("rate_per_second", 1.0)),
            burst=float(raw.get("burst", 3.0)),
            max_attempts=int(raw.get("max_attempts", 6)),
            timeout_seconds=float(raw.get("timeout_seconds", 10.0)),
            repeat_on_5xx=bool(raw.get("repeat_on_5xx", False)),
        )
    except (TypeError, ValueError) as exc:
        raise DeliveryConfigError(f"{where}: {exc}") from exc


def _route(raw: Mapping[str, Any], names: set[str], n: int) -> Route:
    where = f"[[route]] #{n + 1}"
    to = raw.get("to")
    if isinstance(to, str):
        to = [to]
    if not isinstance(to, list) or not to:
        raise DeliveryConfigError(f"{where}: 'to' must list destination names")
    unknown = sorted(set(map(str, to)) - names)
    if unknown:
        raise DeliveryConfigError(f"{where}: unknown destinations {unknown}")

    def strings(key: str) -> list[str] | None:
        value = raw.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise DeliveryConfigError(f"{where}: {key} must be a list of strings")
        return value

    states, topics, keywords = strings("states"), strings("topics"), strings("keywords")
    return Route(
        to=tuple(map(str, to)),
        states=frozenset(s.upper() if s != "merged" else s for s in states) if states is not None else None,
        topics=frozenset(topics) if topics is not None else None,
        keywords=tuple(k.casefold() for k in keywords) if keywords is not None else None,
        min_weight=float(raw.get("min_weight", 0.0)),
    )


def load_delivery_config(path: Path, env: Mapping[str, str] | None = None) -> DeliveryConfig:
    """The delivery file at ``path``; credentials resolved from ``env`` (default: os.environ)."""
    environ = os.environ if env is None else env
    data = read_toml(path, DeliveryConfigError, "delivery config")
    destinations: dict[str, DestinationConfig] = {}
    for n, raw in enumerate(data.get("destination", [])):
        dest = _destination(raw, environ, n)
        if dest.name in destinations:
            raise DeliveryConfigError(f"{path}: two destinations are named {dest.name!r}")
        destinations[dest.name] = dest
    routes = tuple(_route(raw, set(destinations), n) for n, raw in enumerate(data.get("route", [])))
    if destinations and not routes:
        raise DeliveryConfigError(f"{path}: destinations but no [[route]]: nothing would be delivered")
    return DeliveryConfig(destinations, routes)
