"""One typed settings object, built at start-up and passed down.

Every field can be set by a command-line flag of ``berth up`` or by an environment variable
``BERTH_<FIELD>`` (``BERTH_DATABASE_URL``, ``BERTH_PORT`` ...). Nothing else in Berth reads the
environment for configuration.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from berth.workers.node.restarts import RESTART_BACKOFF_BASE_S, RESTART_BACKOFF_CAP_S


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BERTH_", extra="ignore")

    host: str = Field(
        default="127.0.0.1",
        description="Address the API listens on. The API has no "
        "authentication yet: an address beyond loopback is refused unless "
        "allow_insecure_host is set.",
    )
    allow_insecure_host: bool = Field(
        default=False,
        description="Let the API listen on a non-loopback host although it has no "
        "authentication (a container, whose port the deployment publishes on 127.0.0.1 "
        "only; see compose.yaml).",
    )
    port: int = Field(default=8080, description="Port the API listens on.")
    data_dir: Path = Field(
        default=Path(".berth"), description="State: database, keys, logs, volumes."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default is a SQLite file in the data directory. "
        "PostgreSQL: postgresql+psycopg://user@host:5432/db",
    )
    encryption_key: str | None = Field(
        default=None,
        description="Key (Fernet, urlsafe base64) for Secrets at rest; default is a key "
        "file created in the data directory.",
    )
    watch_window: int = Field(
        default=50_000,
        description="How many changes the change log keeps for watches; a watch from "
        "an older resourceVersion gets 410 Expired.",
    )
    ray_address: str | None = Field(
        default=None,
        description="Ray cluster to join (e.g. 'auto' or 'ray://head:10001'); "
        "default starts a private Ray on loopback.",
    )
    ray_num_cpus: int | None = Field(default=None, description="CPUs of the embedded Ray node.")
    ray_num_gpus: int | None = Field(default=None, description="GPUs of the embedded Ray node.")
    ray_idle_workers: int = Field(
        default=32,
        ge=0,
        description="Embedded mode only: idle Ray worker processes the node keeps "
        "warm for the next pods (Ray's num_workers_soft_limit; Ray's default, the CPU count, "
        "made every pod past the second start a fresh ~0.5 s worker). Each costs ~60 MiB.",
    )
    agent_launches_pods: bool | None = Field(
        default=None,
        description="Node agents start pods that ask for nothing but CPU and memory "
        "themselves, as sandboxed processes of the agent, instead of as one Ray task each "
        "(no Ray task dispatch, worker process or per-status actor call per pod). Ray then "
        "no longer counts those pods' CPU and memory: leave it off where other Ray work "
        "shares the nodes. Unset (default): on with Berth's own private Ray head (embedded "
        "mode, where nothing else runs on the node), off when joining a cluster "
        "(ray_address). Pods "
        "that ask for GPUs or other Ray resources always run as Ray tasks (Ray assigns their "
        "devices).",
    )
    ray_keep_running: bool = Field(
        default=False,
        description="Embedded mode only: leave the private Ray (and the pods on it) "
        "running when Berth stops cleanly, so the next start with the same data directory "
        "finds them. Off: a clean stop (Ctrl-C, SIGTERM) stops that Ray; after a crash it "
        "keeps running either way. A joined cluster (ray_address) is never stopped.",
    )
    node_root: Path | None = Field(
        default=None,
        description="Directory on every Ray node for pod logs and pod state; default "
        "<data_dir>/nodes (right for the embedded node; set it for a multi-host cluster).",
    )
    volume_root: Path | None = Field(
        default=None,
        description="Where the built-in provisioner (StorageClass provisioner "
        "berth.io/local-path) makes a directory per claim; default <data_dir>/volumes/"
        "local-path. Every node must see it at the same path: in a cluster, a shared "
        "filesystem.",
    )
    node_sync_period_s: float = Field(
        default=1.0,
        gt=0,
        description="How often Ray's node list is compared with the Node objects "
        "(new nodes get a Node and an agent; a dead node's pods are failed).",
    )
    kubelet_resync_period_s: float = Field(
        default=5.0,
        gt=0,
        description="How often every node agent is sent its full set of pods even "
        "when nothing changed (a safety net; changes are sent at once).",
    )
    kubelet_debounce_s: float = Field(
        default=0.0,
        ge=0,
        description="How long pod changes are gathered before they are sent to "
        "the node agents. 0 (default): at once; changes that come while a node's last "
        "send is unanswered go together in its next.",
    )
    kubelet_status_poll_s: float = Field(
        default=1.0,
        gt=0,
        description="Longest a node agent holds a request for pod status changes "
        "open when nothing changes (a long poll: changes are answered as they happen).",
    )
    orphan_pod_grace_s: float = Field(
        default=40.0,
        ge=0,
        description="How long a pod may stay bound to a node that has neither a "
        "Node object nor an agent before it is failed and deleted (Kubernetes' pod GC "
        "quarantine).",
    )
    restart_backoff_base_s: float = Field(
        default=RESTART_BACKOFF_BASE_S,
        gt=0,
        description="First delay before a failed container is restarted "
        "(CrashLoopBackOff; doubles each time).",
    )
    restart_backoff_cap_s: float = Field(
        default=RESTART_BACKOFF_CAP_S,
        gt=0,
        description="Longest delay before a failed container is restarted.",
    )
    bwrap: str = Field(
        default="bwrap",
        description="The bubblewrap program that sandboxes pods on every node: a name "
        "looked up on PATH or a path. A node where it does not run says so in its Node status "
        "(condition SandboxReady=False); pods there that need volume mounts or their own "
        "hostname fail with an Event, other pods run unsandboxed with a warning.",
    )
    node_labels: dict[str, str] = Field(
        default_factory=dict, description="Labels added to every Ray-backed node."
    )
    node_taints: list[dict] = Field(
        default_factory=list, description="Taints (key, value, effect) on every Ray-backed node."
    )
    scheduler_strategy: Literal["pack", "spread", "fragmentation-aware"] = Field(
        default="fragmentation-aware",
        description="Default scoring for pods that name no profile: "
        "fragmentation-aware (default: packs CPU nodes, places GPU work where it fragments "
        "GPUs least), pack tightly, or spread across nodes. Pods pick a profile with "
        "schedulerName: binpack, spread or fragmentation-aware.",
    )
    scheduler_reserve_after_s: float = Field(
        default=60.0,
        ge=0,
        description="How long a pod may stay unschedulable before it reserves a "
        "node that only drains until the pod fits (backfill without starvation).",
    )
    scheduler_max_reservations: int = Field(
        default=4,
        ge=0,
        description="How many nodes starving pods may reserve at once (0: never "
        "reserve; small pods may then pass a big one forever).",
    )
    scheduler_max_unschedulable_s: float = Field(
        default=30.0,
        gt=0,
        description="Longest a pod stays parked as unschedulable before it is tried "
        "again although no cluster event said it may fit (kube-scheduler's "
        "podMaxInUnschedulablePodsDuration): the safety net for a change no event "
        "announces, such as the GPU workload mix moving admission's threshold.",
    )
    role: Literal["all", "api", "controller"] = Field(
        default="all",
        description="What this process runs. all: the API and the controllers, "
        "scheduler and node agents' driver (embedded). api: the Kubernetes API only (any "
        "number of replicas on one database). controller: the controllers, scheduler and "
        "node agents' driver, with /healthz, /readyz and /metrics on the port.",
    )
    api_process: bool = Field(
        default=True,
        description="Role all only: serve the API from a process of its own beside the "
        "controllers, scheduler and node agents' driver (off: one process for all, where "
        "reads wait behind the controllers for Python's interpreter lock under load).",
    )
    leader_elect: bool = Field(
        default=True,
        description="Run the controllers only while holding the controller lease in "
        "the store, so that of several processes on one database exactly one runs them.",
    )
    lease_duration_s: float = Field(
        default=5.0,
        gt=0,
        description="How long a lease that is not renewed keeps other processes "
        "from taking over (measured by each candidate's own clock).",
    )
    lease_renew_deadline_s: float = Field(
        default=3.0,
        gt=0,
        description="The leader steps down when it could not renew its lease for "
        "this long; less than lease_duration_s.",
    )
    lease_retry_period_s: float = Field(
        default=1.0,
        gt=0,
        description="How often the leader renews and candidates try to take over.",
    )
    workers: bool = Field(
        default=True,
        description="Start Ray and node agents (off: API + store only). "
        "With role api and ray_address: read pod logs from that cluster's "
        "agents.",
    )
    node_usage_period_s: float = Field(
        default=5.0,
        gt=0,
        description="How often each Ray node's real CPU and memory use is read for /metrics.",
    )
    log_level: str = Field(default="info", description="Logging level of the server.")

    @model_validator(mode="after")
    def _leader_steps_down_before_others_take_over(self) -> Settings:
        if self.lease_renew_deadline_s >= self.lease_duration_s:
            raise ValueError(
                f"lease_renew_deadline_s ({self.lease_renew_deadline_s}) must be "
                f"less than lease_duration_s ({self.lease_duration_s}): a leader "
                f"must step down before another process may take over"
            )
        return self

    @property
    def host_is_loopback(self) -> bool:
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return self.host == "localhost"

    @property
    def runs_api(self) -> bool:
        return self.role in ("all", "api")

    @property
    def runs_controllers(self) -> bool:
        return self.role in ("all", "controller")

    @property
    def resolved_volume_root(self) -> Path:
        return Path(self.volume_root or self.data_dir / "volumes" / "local-path").resolve()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'berth.db').resolve()}"
