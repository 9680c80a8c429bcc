"""A small real cluster on this machine: PostgreSQL (Dagster's instance and the DuckLake catalog), Redis
(Celery's broker and results), N `dagster-celery` workers with distinct names, and a day of podcasts spoken
by espeak-ng served over HTTP. Used by the scale test and bench/scale.py; everything started is stopped.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import dagster as dg
import yaml

from podigest_dagster.core.ingest.feeds_config import FeedSpec, save_feeds
from podigest_dagster.defs.executors import celery_config
from podigest_dagster_tests.support import speech
from podigest_dagster_tests.support.insight_day import CITIES, ENERGY, FOOD, HEALTH, INSIGHTS, MONEY
from podigest_dagster_tests.support.services import RedisServer, postgres_server, redis_server

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TRANSCRIBE_STEP = "transcripts.transcribe_one_episode"
NIGHT = f"Welcome to Night Shift. {INSIGHTS['sleep']} {INSIGHTS['judges']} Thanks for listening, goodnight."
# (episode key, show, what is said): six episodes, three ideas said by two shows each.
DAY_EPISODES = [
    ("money", "Money Matters", MONEY),
    ("cities", "City Lab Talk", CITIES),
    ("health", "Body and Mind", HEALTH),
    ("energy", "Grid Talk", ENERGY),
    ("food", "Kitchen Science", FOOD),
    ("night", "Night Shift", NIGHT),
]


@dataclass
class Cluster:
    root: Path
    env: dict[str, str]
    workers: dict[str, subprocess.Popen] = field(default_factory=dict)
    redis: RedisServer | None = None

    def start_worker(self, name: str) -> None:
        """`dagster-celery worker start` named NAME (NAME@host), one task at a time, both queues (one -q with a
        comma-separated list: dagster-celery passes each -q as celery -Q, and celery keeps only the last)."""
        log = open(self.root / f"worker-{name}.log", "wb")  # noqa: SIM115 - closed with the process
        self.workers[name] = subprocess.Popen(
            [str(BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app",
             "-y", str(self.root / "celery.yaml"), "-q", "transcribe,dagster", "-n", name,
             "--", "--concurrency=1", "--without-gossip", "--without-mingle"],
            env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def wait_ready(self, timeout_s: float = 120) -> None:
        """Until every worker logged that it is ready to take tasks."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if all(b"ready." in (self.root / f"worker-{n}.log").read_bytes() for n in self.workers):
                return
            for name, proc in self.workers.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"worker {name} exited:\n{self.log_tail(name)}")
            time.sleep(0.5)
        raise RuntimeError("workers not ready:\n" + "\n".join(self.log_tail(n) for n in self.workers))

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Signal the worker's whole process group (the main process and its pool child)."""
        proc = self.workers[name]
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)

    def stop_all(self) -> None:
        for name in list(self.workers):
            if self.workers[name].poll() is None:
                self.kill(name, signal.SIGTERM)

    def log_tail(self, name: str, chars: int = 3000) -> str:
        return (self.root / f"worker-{name}.log").read_text(errors="replace")[-chars:]


@contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    """os.environ updated for the block (the run's own process reads the same settings as the workers)."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def cluster(
    root: Path, threads: int = 1, visibility_s: int = 90, redis_persist: bool = False
) -> Iterator[Cluster]:
    """PostgreSQL + Redis + the settings of a DuckLake warehouse, a Postgres Dagster instance and Celery;
    with `redis_persist` Redis keeps its data over `Cluster.redis.restart()`."""
    from podigest_dagster.core.transcribe.whisper_model import ensure_bundled_whisper_base
    from podigest_dagster.warehouse import db

    with postgres_server() as pg, redis_server(persist=redis_persist) as redis:
        pg.create_database("dagster")
        pg.create_database("lake")
        home, dagster_home, data = root / "home", root / "dagster", root / "lake-data"
        for folder in (home, dagster_home, data):
            folder.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "PODIGEST_HOME": str(home),
            "PODIGEST_FEEDS": str(home / "feeds.yaml"),
            "PODIGEST_WAREHOUSE": f"ducklake:postgres:{pg.dsn_for('lake')}",
            "PODIGEST_DUCKLAKE_DATA_PATH": str(data),
            "PODIGEST_EXECUTOR": "celery",
            "PODIGEST_CELERY_BROKER": redis.url_for(0),
            "PODIGEST_CELERY_BACKEND": redis.url_for(1),
            "PODIGEST_CELERY_VISIBILITY_TIMEOUT_S": str(visibility_s),
            "PODIGEST_DAGSTER_PG_URL": pg.url_for("dagster").replace(
                "postgresql://", "postgresql+psycopg2://"
            ),
            "PODIGEST_ALLOW_PRIVATE_NETWORK": "1",
            "PODIGEST_WHISPER_THREADS": str(threads),
            "OMP_NUM_THREADS": str(threads),
            "DAGSTER_HOME": str(dagster_home),
            "PYTHONPATH": str(ROOT),
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # dagster-celery starts `celery`
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }
        (dagster_home / "dagster.yaml").write_text(
            textwrap.dedent("""\
                storage:
                  postgres:
                    postgres_url:
                      env: PODIGEST_DAGSTER_PG_URL
                telemetry:
                  enabled: false
                """)
        )
        with environment(env):
            (root / "celery.yaml").write_text(yaml.safe_dump({"execution": {"config": celery_config()}}))
            with db.write_connection(env["PODIGEST_WAREHOUSE"]):
                pass  # the catalog and the schema are made once, before any worker attaches
            with dg.DagsterInstance.get():
                pass  # so is the instance's schema: two workers creating it at once collide (CI, 'type exists')
            ensure_bundled_whisper_base(home / "models")
            made = Cluster(root, env, redis=redis)
            try:
                yield made
            finally:
                made.stop_all()


def serve_day(
    http_server, home: Path, day: str, episodes: list[tuple[str, str, str]], repeat: int = 1
) -> None:
    """One RSS feed per show on the test HTTP server, each episode's speech as MP3; feeds.yaml written."""
    shows: dict[str, list[str]] = {}
    for key, show, text in episodes:
        audio = speech.clip(*([text] * repeat), fmt="mp3").read_bytes()
        url = http_server.add(f"/a/{day}/{key}.mp3", audio, Content_Type="audio/mpeg")
        pub = datetime.fromisoformat(f"{day}T08:00:00+00:00").strftime("%a, %d %b %Y %H:%M:%S +0000")
        shows.setdefault(show, []).append(
            f"<item><title>{show}: {key} ({day})</title><guid>{day}-{key}</guid><pubDate>{pub}</pubDate>"
            f'<enclosure url="{url}" type="audio/mpeg" length="{len(audio)}"/></item>'
        )
    specs = []
    for n, (show, items) in enumerate(sorted(shows.items())):
        feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>{show}</title>{"".join(items)}</channel></rss>'
        specs.append(
            FeedSpec(
                url=http_server.add(f"/f/{day}/{n}.xml", feed, Content_Type="application/rss+xml"), name=show
            )
        )
    existing = (
        yaml.safe_load((home / "feeds.yaml").read_text())["feeds"] if (home / "feeds.yaml").exists() else []
    )
    save_feeds(home / "feeds.yaml", [FeedSpec(url=f["url"], name=f.get("name")) for f in existing] + specs)


def run_day(day: str, instance: dg.DagsterInstance, job_fn=None) -> tuple[str, bool]:
    """The scale job (or `job_fn`'s, a module-level function of jobs.py) for one day through the configured
    executor; (run id, success). Dagster caches a reconstructable job per function in a process, with its
    executor config: a test starting a cluster of its own passes a function of its own."""
    from podigest_dagster_tests.scale.jobs import scale_day_job

    with dg.execute_job(
        dg.reconstructable(job_fn or scale_day_job),
        instance=instance,
        tags={"dagster/partition": day},
        raise_on_error=False,
    ) as result:
        return result.run_id, result.success


def celery_hosts(instance: dg.DagsterInstance, run_id: str) -> dict[str, list[str]]:
    """step key -> the Celery workers (name@host) that started it, in order, from the run's engine events."""
    hosts: dict[str, list[str]] = {}
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None or event.event_type_value != "ENGINE_EVENT" or not event.step_key:
            continue
        data = event.engine_event_data
        worker = data.metadata.get("Celery worker") if data and data.metadata else None
        if worker is not None:
            hosts.setdefault(event.step_key, []).append(str(getattr(worker, "value", worker)))
    return hosts


def digest_json(conn, day: str) -> dict:
    [(text,)] = conn.execute("SELECT json FROM digests WHERE partition_date = ?", [day]).fetchall()
    return json.loads(text)
