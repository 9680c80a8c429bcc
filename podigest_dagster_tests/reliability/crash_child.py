"""One stage materialised in a child process: the crash tests SIGKILL it, the concurrency tests run several.

Run as `python -c "from podigest_dagster_tests.reliability.crash_child import main; main()" STAGE JSON`.
A `stall_at` seam makes the child write a marker file and wait at one exact point of the real code,
so the kill lands there; without it the child runs the stage unchanged and the test watches for a
file or a row instead.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import dagster as dg

from podigest_dagster.defs.daily import daily_partitions
from podigest_dagster.defs.warehouse import WarehouseResource


def _stall(marker: str) -> None:
    Path(marker).write_text(str(os.getpid()))
    time.sleep(600)


def _audio(args: dict) -> dg.ExecuteInProcessResult:
    from podigest_dagster.defs.ingest.assets import episode_audio
    from podigest_dagster.defs.ingest.resources import IngestSettings

    ingest = IngestSettings(
        feeds_file=args["feeds_file"], audio_dir=args["audio_dir"], retries=0, download_deadline_s=300
    )
    return dg.materialize(
        [
            episode_audio,
            dg.AssetSpec("episodes", partitions_def=daily_partitions),
            dg.AssetSpec("publisher_transcripts", partitions_def=daily_partitions),
        ],
        selection=[episode_audio],
        partition_key=args["day"],
        resources={"warehouse": WarehouseResource(database=args["db"]), "ingest": ingest},
    )


def _transcripts(args: dict) -> dg.ExecuteInProcessResult:
    from podigest_dagster.defs.ingest.resources import IngestSettings
    from podigest_dagster.defs.transcribe.assets import transcripts
    from podigest_dagster.defs.transcribe.resources import TranscriberResource

    return dg.materialize(
        [transcripts, dg.AssetSpec("episode_audio", partitions_def=daily_partitions)],
        selection=[transcripts],
        partition_key=args["day"],
        resources={
            "warehouse": WarehouseResource(database=args["db"]),
            "transcriber": TranscriberResource(models_dir=args["models_dir"]),
            "ingest": IngestSettings(retries=0),
        },
    )


def _digest(args: dict) -> dg.ExecuteInProcessResult:
    from podigest_dagster.core.digest import store as digest_store
    from podigest_dagster.defs.digest.assets import daily_digest

    if args.get("stall_at") == "transaction":
        digest_store._sources_json = lambda item: _stall(args["marker"])
    if args.get("stall_at") == "html_file":
        real_replace = os.replace

        def replace(src, dst, *rest, **kw):
            if str(dst).endswith(f"{args['day']}.html"):
                _stall(args["marker"])
            return real_replace(src, dst, *rest, **kw)

        os.replace = replace
    return dg.materialize(
        [daily_digest, dg.AssetSpec("top_insights", partitions_def=daily_partitions)],
        selection=[daily_digest],
        partition_key=args["day"],
        resources={"warehouse": WarehouseResource(database=args["db"])},
    )


def _delivery(args: dict) -> dg.ExecuteInProcessResult:
    from podigest_dagster.defs.digest.assets import daily_digest, digest_delivery
    from podigest_dagster.defs.digest.resources import MailerResource

    return dg.materialize(
        [daily_digest, digest_delivery],
        selection=[digest_delivery],
        partition_key=args["day"],
        resources={
            "warehouse": WarehouseResource(database=args["db"]),
            "mailer": MailerResource(**args["mailer"]),
        },
    )


def _chain(args: dict) -> dg.ExecuteInProcessResult:
    """Ingest then transcripts for one partition (publisher transcripts: no Whisper needed)."""
    from podigest_dagster.defs.ingest.assets import episode_audio, episodes
    from podigest_dagster.defs.ingest.resources import IngestSettings
    from podigest_dagster.defs.transcribe.assets import transcripts
    from podigest_dagster.defs.transcribe.publisher import publisher_transcripts
    from podigest_dagster.defs.transcribe.resources import TranscriberResource

    return dg.materialize(
        [episodes, publisher_transcripts, episode_audio, transcripts],
        partition_key=args["day"],
        resources={
            "warehouse": WarehouseResource(database=args["db"]),
            "ingest": IngestSettings(feeds_file=args["feeds_file"], audio_dir=args["audio_dir"], retries=1),
            "transcriber": TranscriberResource(models_dir=args["models_dir"]),
        },
    )


STAGES = {
    "chain": _chain,
    "audio": _audio,
    "transcripts": _transcripts,
    "digest": _digest,
    "delivery": _delivery,
}


def main() -> None:
    stage, args = sys.argv[1], json.loads(sys.argv[2])
    result = STAGES[stage](args)
    sys.exit(0 if result.success else 1)
