"""One typed settings object, built at start-up and passed down.

Every field can be set by a command-line flag of ``berth up`` or by an environment variable
``BERTH_<FIELD>`` (``BERTH_DATABASE_URL``, ``BERTH_PORT`` ...). Nothing else in Berth reads the
environment for configuration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BERTH_", extra="ignore")

    host: str = Field("127.0.0.1", description="Address the API listens on.")
    port: int = Field(8080, description="Port the API listens on.")
    data_dir: Path = Field(Path(".berth"), description="State: database, keys, logs, volumes.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default is a SQLite file in the data directory. "
        "PostgreSQL: postgresql+psycopg://user@host:5432/db")
    encryption_key: str | None = Field(
        None, description="Key (Fernet, urlsafe base64) for Secrets at rest; default is a key "
        "file created in the data directory.")
    watch_window: int = Field(
        50_000, description="How many changes the change log keeps for watches; a watch from "
        "an older resourceVersion gets 410 Expired.")
    ray_address: str | None = Field(
        None, description="Ray cluster to join (e.g. 'auto' or 'ray://head:10001'); "
        "default starts a private Ray on loopback.")
    ray_num_cpus: int | None = Field(None, description="CPUs of the embedded Ray node.")
    ray_num_gpus: int | None = Field(None, description="GPUs of the embedded Ray node.")
    node_labels: dict[str, str] = Field(
        default_factory=dict, description="Labels added to every Ray-backed node.")
    node_taints: list[dict] = Field(
        default_factory=list, description="Taints (key, value, effect) on every Ray-backed node.")
    scheduler_strategy: Literal["pack", "spread"] = Field(
        "pack", description="Scoring: pack tightly (default) or spread across nodes.")
    scheduler_reserve_after_s: float = Field(
        60.0, ge=0, description="How long a pod may stay unschedulable before it reserves a "
        "node that only drains until the pod fits (backfill without starvation).")
    scheduler_max_reservations: int = Field(
        4, ge=0, description="How many nodes starving pods may reserve at once (0: never "
        "reserve; small pods may then pass a big one forever).")
    controllers: bool = Field(True, description="Run controllers, scheduler and workers here.")
    workers: bool = Field(True, description="Start Ray and node agents (off: API + store only).")
    log_level: str = Field("info", description="Logging level of the server.")

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'berth.db').resolve()}"
