"""The one Definitions object: every asset, check, job, schedule and resource of podigest."""

from __future__ import annotations

import dagster as dg

from podigest_dagster import settings
from podigest_dagster.defs.daily import daily_digest_job, daily_digest_schedule
from podigest_dagster.defs.digest import assets as digest
from podigest_dagster.defs.digest import readers as digest_readers
from podigest_dagster.defs.digest import site as digest_site
from podigest_dagster.defs.digest.resources import MailerResource
from podigest_dagster.defs.executors import executor_from_env
from podigest_dagster.defs.ingest import assets as ingest
from podigest_dagster.defs.ingest import audio_cache
from podigest_dagster.defs.ingest.resources import IngestSettings
from podigest_dagster.defs.insights import assets as insights
from podigest_dagster.defs.insights.resources import EmbedderResource, LLMResource
from podigest_dagster.defs.marts import assets as dbt_assets
from podigest_dagster.defs.search import assets as search
from podigest_dagster.defs.transcribe import assets as transcribe
from podigest_dagster.defs.transcribe import publisher as publisher_transcripts
from podigest_dagster.defs.transcribe.resources import TranscriberResource
from podigest_dagster.defs.warehouse import WarehouseResource

settings.use_offline_environment()

_modules = [
    ingest,
    publisher_transcripts,
    transcribe,
    audio_cache,
    insights,
    search,
    digest,
    digest_readers,
    digest_site,
    dbt_assets,
]


def build_resources() -> dict[str, object]:
    """Resources configured from the environment (PODIGEST_HOME and friends)."""
    return {
        "warehouse": WarehouseResource(database=str(settings.warehouse_path())),
        "ingest": IngestSettings.from_env(),
        "transcriber": TranscriberResource(),
        "embedder": EmbedderResource(),
        "llm": LLMResource.from_env(),
        "mailer": MailerResource.from_env(),
        "dbt": dbt_assets.dbt_resource(),
    }


ONE_DAY_PER_RUN = dg.BackfillPolicy.multi_run(max_partitions_per_run=1)


def _one_day_per_run(assets: list) -> list:
    """Every asset works on one day per run (a backfill is one run per day), dbt included."""
    return [
        a.with_attributes(backfill_policy=ONE_DAY_PER_RUN)
        if isinstance(a, dg.AssetsDefinition) and a.partitions_def is not None
        else a
        for a in assets
    ]


def build_definitions() -> dg.Definitions:
    """Definitions bound to the environment as it is now (tests build their own after setting it)."""
    return dg.Definitions(
        assets=_one_day_per_run(dg.load_assets_from_modules(_modules)),
        asset_checks=dg.load_asset_checks_from_modules(_modules),
        jobs=[daily_digest_job],
        schedules=[daily_digest_schedule],
        resources=build_resources(),
        executor=executor_from_env(),
    )


def daily_job() -> dg.JobDefinition:
    """The daily job as a worker rebuilds it (`dg.reconstructable(daily_job)`: Celery, multiprocess, k8s)."""
    from podigest_dagster.defs.daily import DAILY_JOB_NAME

    return build_definitions().resolve_job_def(DAILY_JOB_NAME)


defs = build_definitions()
