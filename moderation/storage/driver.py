"""The posting path's INSERT, run on the driver's cursor inside the session's transaction.

Through SQLAlchemy Core, one INSERT of a comment cost the web more CPU than SQLite took to run it
(compiling from the cache, the parameters' processing per column, the result object). Here the
statement's text is built once per dialect and the values pass through the same bind processors
SQLAlchemy would use (so dates and JSON are stored exactly as an ORM insert stores them).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError


class PreparedInsert:
    """``INSERT INTO table (every column) VALUES (…)`` for one dialect; None binds SQL NULL."""

    def __init__(self, table: Table, dialect: Dialect) -> None:
        self.dialect = dialect
        self.columns = tuple(column.key for column in table.columns)
        quote = dialect.identifier_preparer.quote
        marker = "?" if dialect.paramstyle == "qmark" else "%s"
        if dialect.paramstyle not in ("qmark", "format", "pyformat"):
            raise ValueError(f"unsupported paramstyle {dialect.paramstyle}")
        self.sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(c.name) for c in table.columns)}) "
            f"VALUES ({', '.join(marker for _ in table.columns)})"
        )
        self.processors: tuple[Callable[[Any], Any] | None, ...] = tuple(
            column.type.dialect_impl(dialect).bind_processor(dialect) for column in table.columns
        )

    def parameters(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        values = []
        for key, process in zip(self.columns, self.processors, strict=True):
            value = row.get(key)
            # None is SQL NULL: a JSON column's processor would store the JSON text 'null'.
            values.append(value if value is None or process is None else process(value))
        return tuple(values)

    def execute(self, connection: Connection, row: Mapping[str, Any]) -> None:
        """Run on ``connection``'s driver connection, in its current transaction; driver errors are
        raised as SQLAlchemy's (``OperationalError`` and the like), so callers answer 503 as for any."""
        parameters = self.parameters(row)
        raw = connection.connection.dbapi_connection
        dbapi = self.dialect.loaded_dbapi
        cursor = raw.cursor()
        try:
            cursor.execute(self.sql, parameters)
        except dbapi.Error as exc:
            invalidated = self.dialect.is_disconnect(exc, raw, cursor)
            if invalidated:
                connection.invalidate(exc)
            raise DBAPIError.instance(
                self.sql,
                parameters,
                exc,
                dbapi.Error,
                connection_invalidated=invalidated,
                dialect=self.dialect,
            ) from exc
        finally:
            cursor.close()


#: Per dialect (one per engine), forgotten with it.
_prepared: weakref.WeakKeyDictionary[Dialect, dict[str, PreparedInsert]] = weakref.WeakKeyDictionary()


def prepared_insert(table: Table, dialect: Dialect) -> PreparedInsert:
    """One prepared INSERT per table and dialect (engine), built on first use."""
    by_table = _prepared.get(dialect)
    if by_table is None:
        by_table = _prepared.setdefault(dialect, {})
    found = by_table.get(table.name)
    if found is None:
        found = by_table[table.name] = PreparedInsert(table, dialect)
    return found
