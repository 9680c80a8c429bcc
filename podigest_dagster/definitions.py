"""The one Definitions object: every asset, check, job, schedule and resource of podigest."""

from __future__ import annotations

import os

import dagster as dg

from podigest_dagster import settings
from podigest_dagster.assets import dbt as dbt_assets
from podigest_dagster.assets import digest, ingest, insights, transcribe
from podigest_dagster.jobs import daily_digest_job, daily_digest_schedule
from podigest_dagster.resources.embedder import EmbedderResource
from podigest_dagster.resources.ingest import IngestSettings
from podigest_dagster.resources.llm import LLMResource
from podigest_dagster.resources.mailer import MailerResource
from podigest_dagster.resources.transcriber import TranscriberResource
from podigest_dagster.resources.warehouse import WarehouseResource

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

_modules = [ingest, transcribe, insights, digest, dbt_assets]


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
    )


defs = build_definitions()
