"""The store's hot statements, compiled once and sent on the driver's cursor.

SQLAlchemy's ``Connection.execute`` spends several times the CPU of the SQLite statement it
sends (events, the compiled cache's key, the execution context, the result's wrapping): a
``get`` was 77-123 us of CPU (29 this way), of which sqlite3's execute and fetch are ~13.
The few statements that every write and every read repeat thousands of times a second are
compiled here as SQLAlchemy compiles them (once per dialect and set of parameter names,
defaults included) and run on the connection's DBAPI cursor, in whatever transaction the
connection is in. Their rows are read whole, so no statement is left in progress (SQLite
refuses to release a savepoint while one is). A driver error is raised as SQLAlchemy would
raise it (``IntegrityError``, ``OperationalError`` ...), so callers catch what they caught
before.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

# (SQL, parameter names in placeholder order or None for named placeholders, defaults)
_Compiled = tuple[str, "tuple[str, ...] | None", dict[str, Any]]


class Prepared:
    """One statement: ``rows(conn, params)`` runs it and returns every row (empty for a
    statement without rows); ``run_many(conn, rows)`` runs it once per parameter set."""

    __slots__ = ("_compiled", "statement")

    def __init__(self, statement: ClauseElement):
        self.statement = statement
        self._compiled: dict[tuple, _Compiled] = {}

    def rows(self, conn: Connection, params: dict | None = None) -> list[tuple]:
        params = params or {}
        sql, args = self._bound(conn, params)
        cursor = conn.connection.driver_connection.cursor()  # pyright: ignore[reportOptionalMemberAccess]
        try:
            cursor.execute(sql, args)
            return cursor.fetchall() if cursor.description else []
        except conn.dialect.loaded_dbapi.Error as err:
            raise _wrapped(conn, sql, args, err) from err
        finally:
            cursor.close()

    def run_many(self, conn: Connection, many: list[dict]) -> None:
        if not many:
            return
        bound = [self._bound(conn, params) for params in many]
        sql = bound[0][0]
        cursor = conn.connection.driver_connection.cursor()  # pyright: ignore[reportOptionalMemberAccess]
        try:
            cursor.executemany(sql, [args for _, args in bound])
        except conn.dialect.loaded_dbapi.Error as err:
            raise _wrapped(conn, sql, bound[0][1], err) from err
        finally:
            cursor.close()

    def _bound(self, conn: Connection, params: dict) -> tuple[str, Any]:
        dialect = conn.dialect
        key = (dialect.name, dialect.paramstyle, *sorted(params))
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(conn, params)
        sql, positions, defaults = compiled
        values = {**defaults, **params} if defaults else params
        if positions is None:
            return sql, values
        return sql, [values[name] for name in positions]

    def _compile(self, conn: Connection, params: dict) -> _Compiled:
        # As SQLAlchemy compiles for an execute: the parameters' names pick the columns an
        # INSERT or UPDATE sets.
        compiled = self.statement.compile(dialect=conn.dialect, column_keys=sorted(params))
        if not isinstance(compiled, SQLCompiler):
            raise TypeError(f"not a statement with rows or parameters: {self.statement}")
        positions = compiled.positiontup
        defaults = {k: v for k, v in (compiled.params or {}).items() if k not in params}
        return compiled.string, tuple(positions) if positions is not None else None, defaults


def _wrapped(conn: Connection, sql: str, args: Any, err: Exception) -> BaseException:
    return DBAPIError.instance(
        sql, args, err, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
    )
