"""Which sources to run, from one TOML file, with environment overrides.

::

    [[source]]
    name = "x"                        # x-stream: X API v2 filtered stream
    kind = "x-stream"
    token_env = "X_BEARER_TOKEN"      # credentials only by *_env or *_file
    rules = [{ value = "panjshir -is:retweet", tag = "afghanistan" }]
    backfill_minutes = 2              # on plans that have it (0 to 5)

    [[source]]
    name = "wires"                    # feeds: RSS 2.0, Atom, JSON Feed
    kind = "feeds"
    interval = 300                    # default for its feeds, seconds
    feeds = [
      { url = "https://wire.example.com/world.rss", outlet = "wire.example.com", topics = ["afghanistan"] },
      { url = "https://news.example.org/feed.json", interval = 120 },
    ]

    [[source]]
    name = "fediverse"                # mastodon: hashtag or public timeline over SSE
    kind = "mastodon"
    base_url = "https://mastodon.social"
    timeline = "hashtag"
    tag = "panjshir"
    token_env = "MASTODON_TOKEN"

    [[source]]
    name = "partners"                 # http-ingest: POST /items
    kind = "http-ingest"
    listen = "0.0.0.0:8088"
    tokens = [{ name = "partner-a", token_env = "PARTNER_A_TOKEN" }]

    [[source]]
    name = "crisis"                   # replay: JSONL items or a data set's own format
    kind = "replay"
    path = "../shared/data/crisislext26"
    format = "crisislext26"
    speed = 60                        # real time times 60; 0 = as fast as possible

Any scalar key of a source can be overridden by ``CORROBORATE_SOURCE_<NAME>_<KEY>``
(name and key upper-cased, other characters as ``_``), e.g.
``CORROBORATE_SOURCE_X_BASE_URL=http://proxy:8080`` or
``CORROBORATE_SOURCE_WIRES_ENABLED=false``: one file serves every environment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.errors import SourceConfigError
from connectors.secrets import Secret, read_secret
from connectors.sources.replay import FORMATS
from streams.tomlfile import read_toml

__all__ = ["KINDS", "SourceConfig", "SourcesConfig", "load_sources_config", "override_var"]

_COMMON = {"name", "kind", "enabled"}
_KEYS: dict[str, set[str]] = {
    "x-stream": {"base_url", "token_env", "token_file", "rules", "stall_seconds", "backfill_minutes"},
    "feeds": {"feeds", "interval", "timeout"},
    "mastodon": {
        "base_url",
        "timeline",
        "tag",
        "local",
        "token_env",
        "token_file",
        "topics",
        "stall_seconds",
        "catchup_pages",
    },
    "http-ingest": {"listen", "tokens", "max_body_bytes", "max_items"},
    "replay": {"path", "format", "speed", "resume"},
}
KINDS = tuple(_KEYS)
_REQUIRED = {
    "x-stream": ("token",),
    "mastodon": ("base_url",),
    "http-ingest": ("tokens",),
    "feeds": ("feeds",),
    "replay": ("path",),
}


@dataclass(frozen=True, slots=True)
class SourceConfig:
    name: str
    kind: str
    options: Mapping[str, Any] = field(default_factory=dict)
    token: Secret | None = None
    tokens: Mapping[str, Secret] = field(default_factory=dict)
    """http-ingest: accepted bearer tokens by the partner's name."""

    def get(self, key: str, default: Any = None) -> Any:
        return self.options.get(key, default)


@dataclass(frozen=True, slots=True)
class SourcesConfig:
    sources: dict[str, SourceConfig] = field(default_factory=dict)

    def enabled(self) -> list[SourceConfig]:
        return [s for s in self.sources.values() if s.get("enabled", True)]


def override_var(source: str, key: str) -> str:
    clean = re.sub(r"[^A-Z0-9]", "_", source.upper())
    return f"CORROBORATE_SOURCE_{clean}_{key.upper()}"


def _scalar(text: str) -> Any:
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            continue
    return text


def _source(raw: Mapping[str, Any], env: Mapping[str, str], n: int) -> SourceConfig:
    name = raw.get("name")
    where = f"[[source]] #{n + 1}" + (f" ({name})" if name else "")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}", name):
        raise SourceConfigError(f"{where}: needs a name of letters, digits, '.', '_' or '-'")
    kind = raw.get("kind")
    if kind not in _KEYS:
        raise SourceConfigError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    unknown = sorted(set(raw) - _KEYS[kind] - _COMMON - {"token"})
    if unknown:
        raise SourceConfigError(f"{where}: unknown key(s) {', '.join(unknown)} for kind {kind}")
    options = {k: v for k, v in raw.items() if k not in ("name", "kind")}
    for key, value in env.items():
        prefix = override_var(name, "")
        if key.startswith(prefix):
            option = key[len(prefix) :].lower()
            if option not in _KEYS[kind] | {"enabled"} or option.endswith(("_env", "_file")):
                raise SourceConfigError(f"{key}: {option!r} is not a scalar option of {kind} source {name}")
            options[option] = _scalar(value)
    if options.get("enabled", True) is False:
        # Switched off: its credentials need not exist in this environment.
        return SourceConfig(name, str(kind), options)
    token = read_secret(raw, "token", env, where, SourceConfigError)
    tokens: dict[str, Secret] = {}
    for t, entry in enumerate(raw.get("tokens") or []):
        if not isinstance(entry, Mapping) or not entry.get("name"):
            raise SourceConfigError(f"{where}: tokens[{t}] needs a name and token_env or token_file")
        secret = read_secret(entry, "token", env, f"{where} tokens[{t}]", SourceConfigError)
        if secret is None:
            raise SourceConfigError(f"{where}: tokens[{t}] ({entry['name']}) needs token_env or token_file")
        tokens[str(entry["name"])] = secret
    for key in _REQUIRED[kind]:
        present = {"token": token is not None, "tokens": bool(tokens)}.get(key, key in options)
        if not present:
            hint = " (token_env or token_file)" if key in ("token", "tokens") else ""
            raise SourceConfigError(f"{where}: kind {kind} needs {key}{hint}")
    if kind == "replay" and options.get("format", "jsonl") not in FORMATS:
        raise SourceConfigError(f"{where}: format {options['format']!r} is not one of {', '.join(FORMATS)}")
    if kind == "feeds":
        feeds = options["feeds"]
        if not isinstance(feeds, list) or not all(isinstance(f, Mapping) and f.get("url") for f in feeds):
            raise SourceConfigError(f"{where}: feeds must be a list of tables with a url")
    return SourceConfig(name, str(kind), options, token, tokens)


def load_sources_config(path: str | Path, env: Mapping[str, str] | None = None) -> SourcesConfig:
    env = os.environ if env is None else env
    doc = read_toml(Path(path), SourceConfigError, "connectors file")
    unknown = sorted(set(doc) - {"source"})
    if unknown:
        raise SourceConfigError(
            f"{path}: unknown table(s) {', '.join(unknown)}; sources are [[source]] entries"
        )
    sources: dict[str, SourceConfig] = {}
    for n, raw in enumerate(doc.get("source") or []):
        config = _source(raw, env, n)
        if config.name in sources:
            raise SourceConfigError(f"{path}: two sources are named {config.name!r}")
        sources[config.name] = config
    return SourcesConfig(sources)
