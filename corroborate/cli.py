"""The ``corroborate`` command.

``run`` is the long-running service; ``replay`` feeds a JSONL file through it
and prints alerts. Both start the embedded broker unless
``KAFKA_BOOTSTRAP_SERVERS`` is set. ``match-pairs``, ``cluster``, ``stance``
and ``alerts`` run the stream's matcher, clusterer, stance model and whole
corroboration over JSON lines on stdin, without a broker.
"""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

from connectors.errors import ConnectorError
from connectors.sources.replay import FORMATS
from corroborate.admin import create_topics
from corroborate.batch import alert_items, cluster_items, match_pairs, stance_lines
from corroborate.config import Settings
from corroborate.connect import connect
from corroborate.delivery import deliver
from corroborate.errors import CorroborateError
from corroborate.service import RunOptions, serve

__all__ = ["bundled_scenarios", "main", "scenario_path"]


def bundled_scenarios() -> list[str]:
    """Names of the scenarios shipped in ``corroborate/scenarios``."""
    folder = Path(str(resources.files("corroborate").joinpath("scenarios")))
    return sorted(p.name.removesuffix(".jsonl") for p in folder.glob("*.jsonl"))


def scenario_path(name: str) -> Path:
    """A bundled scenario by name (one of ``bundled_scenarios()``)."""
    path = Path(str(resources.files("corroborate").joinpath("scenarios", f"{name}.jsonl")))
    if not path.is_file():
        raise CorroborateError(f"no bundled scenario {name!r}; bundled: {', '.join(bundled_scenarios())}")
    return path


def _speed(value: str) -> float | None:
    speed = float(value)
    if speed < 0:
        raise argparse.ArgumentTypeError("speed must be 0 (as fast as possible) or positive")
    return speed or None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="corroborate", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run", help="run the service (embedded broker unless KAFKA_BOOTSTRAP_SERVERS is set)"
    )
    run.add_argument("--json", action="store_true", help="print alerts as JSON lines")
    replay = sub.add_parser("replay", help="replay a JSONL file of items and print alerts")
    src = replay.add_mutually_exclusive_group(required=True)
    src.add_argument("file", nargs="?", type=Path, help="items, one JSON object a line")
    src.add_argument(
        "--scenario",
        help=f"a bundled scenario instead of a file ({', '.join(bundled_scenarios())})",
    )
    replay.add_argument("--json", action="store_true", help="print alerts as JSON lines")
    replay.add_argument(
        "--exit-when-idle",
        type=float,
        metavar="SECONDS",
        help="exit 0 once no new alert came and the agents took no record for this long",
    )
    replay.add_argument(
        "--speed",
        type=_speed,
        default=None,
        help="real-time pace times this factor (default: as fast as possible)",
    )
    replay.add_argument(
        "--keep-serving", action="store_true", help="keep running after the replay (make run)"
    )
    replay.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    replay.add_argument(
        "--format",
        choices=FORMATS,
        default="jsonl",
        help="jsonl: item lines (default); crisislext26: the data set's folder, an event's folder or CSV; "
        "rumoureval: posts.train-dev.jsonl or its folder",
    )
    sub.add_parser(
        "match-pairs",
        help='stdin {"a": TEXT, "b": TEXT} lines -> stdout {"same": BOOL, "score": FLOAT} lines',
    )
    sub.add_parser(
        "cluster",
        help='stdin item lines (id, text, created_at) -> stdout {"id": ID, "cluster": CLUSTER_ID} lines',
    )
    sub.add_parser(
        "stance",
        help='stdin {"target": CLAIM, "text": POST} lines -> stdout {"stance": S, "score": FLOAT} lines',
    )
    sub.add_parser(
        "deliver",
        help="deliver alerts to the destinations of CORROBORATE_DELIVERY (needs KAFKA_BOOTSTRAP_SERVERS)",
    )
    sub.add_parser(
        "topics",
        help="create the pipeline's topics (partitions, compaction, replication) on KAFKA_BOOTSTRAP_SERVERS",
    )
    connect = sub.add_parser(
        "connect",
        help="run source connectors of CORROBORATE_CONNECTORS (needs KAFKA_BOOTSTRAP_SERVERS)",
    )
    connect.add_argument(
        "names", nargs="*", metavar="NAME", help="sources to run (default: every enabled one)"
    )
    sub.add_parser(
        "alerts",
        help="stdin item lines, in order -> stdout every alert the stream would raise (alerts-topic JSON)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        if args.command == "run":
            return serve(settings, RunOptions(json_lines=args.json))
        if args.command == "match-pairs":
            return match_pairs(settings, sys.stdin.buffer, sys.stdout.buffer)
        if args.command == "cluster":
            return cluster_items(settings, sys.stdin.buffer, sys.stdout.buffer)
        if args.command == "stance":
            return stance_lines(settings, sys.stdin.buffer, sys.stdout.buffer)
        if args.command == "alerts":
            return alert_items(settings, sys.stdin.buffer, sys.stdout.buffer)
        if args.command == "deliver":
            return deliver(settings)
        if args.command == "topics":
            return create_topics(settings, sys.stdout)
        if args.command == "connect":
            return connect(settings, args.names)
        path = args.file if args.file is not None else scenario_path(args.scenario)
        if not path.exists():
            raise CorroborateError(f"replay file {path} does not exist")
        idle = None if args.keep_serving else args.exit_when_idle
        return serve(
            settings,
            RunOptions(
                replay=path,
                replay_format=args.format,
                speed=args.speed,
                json_lines=args.json,
                exit_when_idle=idle,
                progress=not args.no_progress,
            ),
        )
    except (CorroborateError, ConnectorError) as exc:
        sys.stderr.write(f"corroborate: error: {exc}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
