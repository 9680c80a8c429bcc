"""The Dagster instance config: SQLite by default, PostgreSQL when PODIGEST_DAGSTER_PG_URL is set, a user's
own dagster.yaml left alone, an unreachable database refused in one line naming the setting."""

from __future__ import annotations

import pytest
import yaml

from podigest_dagster import dagster_instance as instance


@pytest.fixture
def dagster_home(podigest_home, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv(instance.PG_URL_ENV, raising=False)
    return podigest_home / "dagster"


def test_the_default_instance_is_sqlite_in_podigest_home(dagster_home):
    assert instance.ensure_home() == dagster_home
    config = yaml.safe_load((dagster_home / "dagster.yaml").read_text())
    assert "storage" not in config and config["telemetry"] == {"enabled": False}


def test_a_postgres_url_switches_the_managed_file_and_an_unreachable_one_is_one_line(
    dagster_home, monkeypatch
):
    instance.ensure_home()
    monkeypatch.setenv(instance.PG_URL_ENV, "postgresql://dagster:secret@127.0.0.1:1/dagster")
    with pytest.raises(instance.InstanceUnavailable) as failure:
        instance.ensure_home()
    message = str(failure.value)
    assert "\n" not in message and instance.PG_URL_ENV in message and "secret" not in message
    monkeypatch.setattr(instance, "check_reachable", lambda url: None)
    instance.ensure_home()
    config = yaml.safe_load((dagster_home / "dagster.yaml").read_text())
    assert config["storage"] == {"postgres": {"postgres_url": {"env": instance.PG_URL_ENV}}}
    import os

    assert os.environ[instance.PG_URL_ENV].startswith("postgresql+psycopg2://")


def test_a_dagster_yaml_the_user_wrote_is_left_as_it_is(dagster_home):
    dagster_home.mkdir(parents=True)
    own = "run_coordinator:\n  module: dagster.core.run_coordinator\n  class: QueuedRunCoordinator\n"
    (dagster_home / "dagster.yaml").write_text(own)
    instance.ensure_home()
    assert (dagster_home / "dagster.yaml").read_text() == own
