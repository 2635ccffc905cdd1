"""Settings from the environment, in one frozen object.

=================================  ======================  ==========================================
variable                           default                 meaning
=================================  ======================  ==========================================
``KAFKA_BOOTSTRAP_SERVERS``        (unset: embedded)       external Kafka; unset starts the embedded broker
``CORROBORATE_TOPIC_PREFIX``       ``corroborate.``        prefix of every topic name
``CORROBORATE_PARTITIONS``         ``4``                   partitions of items, claims, clusters, alerts
``CORROBORATE_APP_ID``             ``corroborate``         faust app id = consumer group
``CORROBORATE_STATE_DIR``          ``.corroborate``        logs and local state
``CORROBORATE_SESSION_TIMEOUT``    4 embedded, 30 external consumer session timeout (s)
``CORROBORATE_FETCH_WAIT_MS``      ``10``                  longest a fetch waits for data (ms)
``CORROBORATE_SOURCES``            bundled                 source registry TOML
``CORROBORATE_ALIASES``            (none)                  extra alias TOML merged over the bundled one
``CORROBORATE_MIN_ORIGINS``        ``2``                   independent origins to corroborate
``CORROBORATE_MIN_WEIGHT``         ``1.0``                 their summed weight
``CORROBORATE_QUIET_HOURS``        ``48``                  a cluster with no new member expires, and an
                                                           alerted claim goes QUIET, after this
``CORROBORATE_MATCH_THRESHOLD``    the model's             pair threshold of match-pairs (model: 0.34)
``CORROBORATE_MATCH_MODEL``        bundled                 a retrained match model (bench/train_matcher.py)
``CORROBORATE_ENCODER``            ``on``                  ``off``: the string features alone (lexical model); ``adapted``: the encoder with its adapter and the model fitted on it
``CORROBORATE_ENCODER_DIR``        packaged                a sentence encoder directory (safetensors, BERT)
``CORROBORATE_ENTAILMENT``         ``off``                 ``on``: the learnt entailment model behind the contradiction cues (see the README)
``CORROBORATE_STANCE_MODEL``       bundled                 a retrained stance model (bench/train_stance.py)
``CORROBORATE_POLICY``             (none)                  alert policy TOML: [default], [topics.NAME]
``CORROBORATE_SWEEP_SECONDS``      ``60``                  how often quiet clusters and claims are swept
``CORROBORATE_DELIVERY``           (none)                  alert destinations and routes TOML (Slack, webhooks)
``CORROBORATE_CONNECTORS``         (none)                  source connectors TOML (X, feeds, Mastodon, ingest, replays)
``CORROBORATE_MAX_CLUSTERS``       ``200000``              live claim clusters per worker at most (memory bound)
``CORROBORATE_REPLICATION``        ``1``                   replication factor of every topic (3 on a production cluster)
``CORROBORATE_INSTANCE_ID``        (none)                  static group membership id of this worker (a pod's name)
``CORROBORATE_METRICS_PORT``       (none)                  serve /metrics, /livez, /readyz on this port
``CORROBORATE_STALL_SECONDS``      ``120``                 /livez fails when a partition is behind and completes nothing this long
``CORROBORATE_REBALANCE_LIMIT``    ``900``                 /livez fails when one rebalance (with its recovery) lasts longer
``CORROBORATE_LOG_FORMAT``         ``text``                ``json``: one JSON object a log line, on stderr
``CORROBORATE_JOIN_THRESHOLD``     ``0.6``                 match probability at which a claim joins a cluster
``CORROBORATE_MERGE_THRESHOLD``    ``0.8``                 match probability at which two clusters merge
=================================  ======================  ==========================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from connectors.delivery.config import DeliveryConfig, load_delivery_config
from connectors.errors import DeliveryConfigError, SourceConfigError
from connectors.sources.config import SourcesConfig, load_sources_config
from corroborate.errors import ConfigError
from streams.app import AppConfig
from streams.domain.clustering import ClusterConfig
from streams.domain.contradiction import Judge
from streams.domain.encoder import load_encoder
from streams.domain.entailment import load_entailment_model
from streams.domain.matching import MatchConfig, load_model
from streams.domain.policy import PolicyBook, PolicyConfig, load_policy_book
from streams.domain.registry import load_registry
from streams.domain.stance import StanceModel, load_stance_model
from streams.errors import ModelError, PolicyError
from streams.topics import TopicNames

__all__ = ["ENV_VARS", "Settings"]

ENV_VARS = (
    "KAFKA_BOOTSTRAP_SERVERS",
    "CORROBORATE_TOPIC_PREFIX",
    "CORROBORATE_PARTITIONS",
    "CORROBORATE_APP_ID",
    "CORROBORATE_STATE_DIR",
    "CORROBORATE_SESSION_TIMEOUT",
    "CORROBORATE_FETCH_WAIT_MS",
    "CORROBORATE_SOURCES",
    "CORROBORATE_ALIASES",
    "CORROBORATE_MIN_ORIGINS",
    "CORROBORATE_MIN_WEIGHT",
    "CORROBORATE_QUIET_HOURS",
    "CORROBORATE_MATCH_THRESHOLD",
    "CORROBORATE_MATCH_MODEL",
    "CORROBORATE_ENCODER",
    "CORROBORATE_ENCODER_DIR",
    "CORROBORATE_ENTAILMENT",
    "CORROBORATE_STANCE_MODEL",
    "CORROBORATE_POLICY",
    "CORROBORATE_SWEEP_SECONDS",
    "CORROBORATE_DELIVERY",
    "CORROBORATE_CONNECTORS",
    "CORROBORATE_MAX_CLUSTERS",
    "CORROBORATE_REPLICATION",
    "CORROBORATE_INSTANCE_ID",
    "CORROBORATE_METRICS_PORT",
    "CORROBORATE_STALL_SECONDS",
    "CORROBORATE_REBALANCE_LIMIT",
    "CORROBORATE_LOG_FORMAT",
    "CORROBORATE_JOIN_THRESHOLD",
    "CORROBORATE_MERGE_THRESHOLD",
)


def _num(env: Mapping[str, str], name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if value < minimum:
        raise ConfigError(f"{name}={raw!r} must be at least {minimum}")
    return value


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = env.get(name) or choices[0]
    if value not in choices:
        raise ConfigError(f"{name}={value!r} is not one of {', '.join(choices)}")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    bootstrap_servers: str | None
    topic_prefix: str = "corroborate."
    partitions: int = 4
    app_id: str = "corroborate"
    state_dir: Path = Path(".corroborate")
    session_timeout: float | None = None
    fetch_wait_ms: int = 10
    sources_path: str | None = None
    aliases_path: str | None = None
    min_origins: int = 2
    min_weight: float = 1.0
    quiet_hours: float = 48.0
    match_threshold: float | None = None
    match_model_path: str | None = None
    encoder: bool = True
    encoder_adapter: bool = False
    encoder_dir: str | None = None
    entailment: bool = False
    stance_model_path: str | None = None
    policy_path: str | None = None
    sweep_seconds: float = 60.0
    delivery_path: str | None = None
    connectors_path: str | None = None
    max_clusters: int = 200_000
    replication: int = 1
    instance_id: str | None = None
    metrics_port: int | None = None
    stall_seconds: float = 120.0
    rebalance_limit: float = 900.0
    log_format: str = "text"
    join_threshold: float = 0.6
    merge_threshold: float = 0.8

    @property
    def embedded(self) -> bool:
        return not self.bootstrap_servers

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        for path_var in (
            "CORROBORATE_SOURCES",
            "CORROBORATE_ALIASES",
            "CORROBORATE_MATCH_MODEL",
            "CORROBORATE_STANCE_MODEL",
            "CORROBORATE_POLICY",
            "CORROBORATE_DELIVERY",
            "CORROBORATE_CONNECTORS",
        ):
            if e.get(path_var) and not Path(e[path_var]).is_file():
                raise ConfigError(f"{path_var}={e[path_var]!r}: no such file")
        session = e.get("CORROBORATE_SESSION_TIMEOUT")
        return cls(
            bootstrap_servers=e.get("KAFKA_BOOTSTRAP_SERVERS") or None,
            topic_prefix=e.get("CORROBORATE_TOPIC_PREFIX", "corroborate."),
            partitions=int(_num(e, "CORROBORATE_PARTITIONS", 4, minimum=1)),
            app_id=e.get("CORROBORATE_APP_ID", "corroborate"),
            state_dir=Path(e.get("CORROBORATE_STATE_DIR", ".corroborate")),
            session_timeout=_num(e, "CORROBORATE_SESSION_TIMEOUT", 0, minimum=1) if session else None,
            fetch_wait_ms=int(_num(e, "CORROBORATE_FETCH_WAIT_MS", 10, minimum=1)),
            sources_path=e.get("CORROBORATE_SOURCES") or None,
            aliases_path=e.get("CORROBORATE_ALIASES") or None,
            min_origins=int(_num(e, "CORROBORATE_MIN_ORIGINS", 2, minimum=1)),
            min_weight=_num(e, "CORROBORATE_MIN_WEIGHT", 1.0),
            quiet_hours=_num(e, "CORROBORATE_QUIET_HOURS", 48.0, minimum=0.01),
            match_threshold=(
                _num(e, "CORROBORATE_MATCH_THRESHOLD", 0.0) if e.get("CORROBORATE_MATCH_THRESHOLD") else None
            ),
            match_model_path=e.get("CORROBORATE_MATCH_MODEL") or None,
            encoder=_choice(e, "CORROBORATE_ENCODER", ("on", "off", "adapted")) != "off",
            encoder_adapter=_choice(e, "CORROBORATE_ENCODER", ("on", "off", "adapted")) == "adapted",
            encoder_dir=e.get("CORROBORATE_ENCODER_DIR") or None,
            entailment=_choice(e, "CORROBORATE_ENTAILMENT", ("off", "on")) == "on",
            stance_model_path=e.get("CORROBORATE_STANCE_MODEL") or None,
            policy_path=e.get("CORROBORATE_POLICY") or None,
            sweep_seconds=_num(e, "CORROBORATE_SWEEP_SECONDS", 60.0, minimum=0.1),
            delivery_path=e.get("CORROBORATE_DELIVERY") or None,
            connectors_path=e.get("CORROBORATE_CONNECTORS") or None,
            max_clusters=int(_num(e, "CORROBORATE_MAX_CLUSTERS", 200_000, minimum=100)),
            replication=int(_num(e, "CORROBORATE_REPLICATION", 1, minimum=1)),
            instance_id=e.get("CORROBORATE_INSTANCE_ID") or None,
            metrics_port=int(_num(e, "CORROBORATE_METRICS_PORT", 0, minimum=0)) or None,
            stall_seconds=_num(e, "CORROBORATE_STALL_SECONDS", 120.0, minimum=1.0),
            rebalance_limit=_num(e, "CORROBORATE_REBALANCE_LIMIT", 900.0, minimum=1.0),
            log_format=_choice(e, "CORROBORATE_LOG_FORMAT", ("text", "json")),
            join_threshold=_num(e, "CORROBORATE_JOIN_THRESHOLD", 0.6),
            merge_threshold=_num(e, "CORROBORATE_MERGE_THRESHOLD", 0.8),
        )

    def match_config(self) -> MatchConfig:
        """The matcher: the bundled or configured model and encoder, at its own or the configured threshold."""
        try:
            model = load_model(self.match_model_path, lexical=not self.encoder, adapted=self.encoder_adapter)
            if model.uses_cosine != self.encoder:
                raise ModelError(
                    f"match model {self.match_model_path} "
                    + (
                        "reads sentence vectors: unset CORROBORATE_ENCODER=off"
                        if model.uses_cosine
                        else "was trained without the encoder: set CORROBORATE_ENCODER=off"
                    )
                )
            encoder = load_encoder(self.encoder_dir, adapted=self.encoder_adapter) if self.encoder else None
            threshold = model.threshold if self.match_threshold is None else self.match_threshold
            return MatchConfig(threshold=threshold, model=model, encoder=encoder)
        except ModelError as exc:
            raise ConfigError(str(exc)) from exc

    def stance_model(self) -> StanceModel:
        """The bundled stance model, or the one ``CORROBORATE_STANCE_MODEL`` names."""
        try:
            return load_stance_model(Path(self.stance_model_path) if self.stance_model_path else None)
        except ModelError as exc:
            raise ConfigError(str(exc)) from exc

    def policy_book(self) -> PolicyBook:
        """The alert policy: the variables above as the default, a policy file's topics over it."""
        default = PolicyConfig(
            min_origins=self.min_origins,
            min_weight=self.min_weight,
            quiet_seconds=self.quiet_hours * 3600.0,
        )
        try:
            return load_policy_book(Path(self.policy_path) if self.policy_path else None, default)
        except PolicyError as exc:
            raise ConfigError(str(exc)) from exc

    def delivery_config(self, env: Mapping[str, str] | None = None) -> DeliveryConfig | None:
        """Destinations and routes, credentials resolved from ``env``; None when not configured."""
        if self.delivery_path is None:
            return None
        try:
            return load_delivery_config(Path(self.delivery_path), env)
        except DeliveryConfigError as exc:
            raise ConfigError(str(exc)) from exc

    def connectors_config(self, env: Mapping[str, str] | None = None) -> SourcesConfig | None:
        """The configured source connectors, credentials resolved from ``env``; None when not configured."""
        if self.connectors_path is None:
            return None
        try:
            return load_sources_config(Path(self.connectors_path), env)
        except SourceConfigError as exc:
            raise ConfigError(str(exc)) from exc

    def cluster_config(self) -> ClusterConfig:
        return ClusterConfig(
            quiet_seconds=self.quiet_hours * 3600.0,
            join_threshold=self.join_threshold,
            merge_threshold=self.merge_threshold,
            max_live=self.max_clusters,
            match=self.match_config(),
            actors=load_registry(self.sources_path).actors,
            judge=self.contradiction_judge(),
        )

    def contradiction_judge(self) -> Judge | None:
        """The learnt contradiction model with ``CORROBORATE_ENTAILMENT=on`` (opt-in: on real
        crisis tweets it calls different aspects of one event contradictions)."""
        if not self.entailment:
            return None
        try:
            return load_entailment_model().contradiction
        except ModelError as exc:
            raise ConfigError(str(exc)) from exc

    def app_config(self, bootstrap: str) -> AppConfig:
        """The stream app's config once the broker address is known.

        The embedded broker gets a 4 s session (fast joins; it runs on this
        machine); an external cluster 30 s, which tolerates GC pauses and
        load without rebalance storms.
        """
        session = self.session_timeout or (4.0 if self.embedded else 30.0)
        return AppConfig(
            bootstrap_servers=bootstrap,
            app_id=self.app_id,
            topics=TopicNames(self.topic_prefix),
            partitions=self.partitions,
            state_dir=self.state_dir,
            session_timeout=session,
            heartbeat_interval=max(0.5, min(3.0, session / 4)),
            fetch_max_wait_ms=self.fetch_wait_ms,
            registry_path=self.sources_path,
            aliases_path=self.aliases_path,
            stance_model=self.stance_model(),
            cluster=self.cluster_config(),
            policy=self.policy_book(),
            sweep_interval=self.sweep_seconds,
            replication_factor=self.replication,
            group_instance_id=self.instance_id,
        )
