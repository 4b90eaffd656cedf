"""The store's tables: objects, their labels (an index for selectors), and the change log.

``objects.data`` holds the whole object as the API shows it (encrypted for Secrets); the other
columns exist only so SQL can find rows fast. ``changes`` is the watch log: its ``rv`` *is* the
global ``resourceVersion``; ``revision`` holds the newest one handed out. ``leases`` holds the
leader leases (``lease.py``).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

# SQLite only autoincrements a column spelled INTEGER.
_ID = BigInteger().with_variant(Integer, "sqlite")


class ObjectRow(SQLModel, table=True):
    __tablename__ = "objects"  # pyright: ignore[reportAssignmentType]
    __table_args__ = (
        UniqueConstraint("resource", "namespace", "name", name="uq_objects_key"),
        Index("ix_objects_node", "resource", "node_name"),
        Index("ix_objects_phase", "resource", "phase"),
        Index("ix_objects_uid", "uid"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(_ID, primary_key=True, autoincrement=True)
    )
    resource: str = Field(sa_column=Column(String(80), nullable=False))
    namespace: str = Field(sa_column=Column(String(253), nullable=False))
    name: str = Field(sa_column=Column(String(253), nullable=False))
    uid: str = Field(sa_column=Column(String(64), nullable=False))
    rv: int = Field(sa_column=Column(BigInteger, nullable=False))
    node_name: str | None = Field(default=None, sa_column=Column(String(253)))
    phase: str | None = Field(default=None, sa_column=Column(String(64)))
    data: str = Field(sa_column=Column(Text, nullable=False))


class LabelRow(SQLModel, table=True):
    __tablename__ = "labels"  # pyright: ignore[reportAssignmentType]
    __table_args__ = (
        Index("ix_labels_kv", "resource", "key", "value"),
        Index("ix_labels_object", "object_id"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(_ID, primary_key=True, autoincrement=True)
    )
    object_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    resource: str = Field(sa_column=Column(String(80), nullable=False))
    key: str = Field(sa_column=Column(String(317), nullable=False))
    value: str = Field(sa_column=Column(String(63), nullable=False))


class ChangeRow(SQLModel, table=True):
    __tablename__ = "changes"  # pyright: ignore[reportAssignmentType]

    rv: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    resource: str = Field(sa_column=Column(String(80), nullable=False))
    namespace: str = Field(sa_column=Column(String(253), nullable=False))
    name: str = Field(sa_column=Column(String(253), nullable=False))
    type: str = Field(sa_column=Column(String(16), nullable=False))
    data: str = Field(sa_column=Column(Text, nullable=False))


class RevisionRow(SQLModel, table=True):
    """One row: the newest resourceVersion handed out and the oldest one the log still holds."""

    __tablename__ = "revision"  # pyright: ignore[reportAssignmentType]

    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    current: int = Field(sa_column=Column(BigInteger, nullable=False))
    compacted: int = Field(sa_column=Column(BigInteger, nullable=False))


class LeaseRow(SQLModel, table=True):
    """A leader lease (Kubernetes ``coordination.k8s.io`` Lease, kept beside the objects).

    ``version`` grows on every write of the row (the compare-and-set value); ``token`` grows
    only when the holder changes: it is the fencing token of one term of leadership.
    """

    __tablename__ = "leases"  # pyright: ignore[reportAssignmentType]

    name: str = Field(sa_column=Column(String(253), primary_key=True))
    holder: str = Field(sa_column=Column(String(253), nullable=False))
    token: int = Field(sa_column=Column(BigInteger, nullable=False))
    version: int = Field(sa_column=Column(BigInteger, nullable=False))
    duration_s: float = Field(sa_column=Column(Float, nullable=False))
    acquired_at: str = Field(sa_column=Column(String(40), nullable=False))
    renewed_at: str = Field(sa_column=Column(String(40), nullable=False))


# sqlmodel declares __tablename__ as a declared_attr method; a string is its documented
# spelling. The Table objects come from the metadata, where they are typed.
OBJECTS = SQLModel.metadata.tables["objects"]
LABELS = SQLModel.metadata.tables["labels"]
CHANGES = SQLModel.metadata.tables["changes"]
REVISION = SQLModel.metadata.tables["revision"]
LEASES = SQLModel.metadata.tables["leases"]
