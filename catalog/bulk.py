"""Fast bulk writes for the ingestion hot path.

Django's bulk_create builds a model instance and compiles SQL per row, which costs more than
the database's own work at 100,000 rows; bulk_update is slower still (one CASE per field).
These helpers write plain tuples: execute_values on PostgreSQL, executemany on SQLite.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from django.db import connection


def copy_rows(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Write plain rows as fast as the database takes them: COPY on PostgreSQL (CSV, so any
    text is quoted safely), insert_rows elsewhere. No conflict handling."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        insert_rows(table, columns, rows)
        return
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buffer
        )


def insert_rows(
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    page_size: int = 5000,
    ignore_conflicts: bool = False,
) -> None:
    """INSERT rows (tuples in column order) into table, optionally skipping duplicates."""
    if not rows:
        return
    names = ", ".join(columns)
    suffix = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from psycopg2.extras import execute_values

            execute_values(
                cursor.cursor,
                f"INSERT INTO {table} ({names}) VALUES %s{suffix}",
                rows,
                page_size=page_size,
            )
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks}){suffix}", rows)


def update_rows(
    table: str,
    key: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    casts: dict[str, str] | None = None,
    page_size: int = 2000,
) -> None:
    """UPDATE table SET columns FROM a list of (key, *values) rows, in one statement a page.

    casts gives PostgreSQL types for values that VALUES would otherwise type as text
    (jsonb, timestamptz, bigint, boolean).
    """
    if not rows:
        return
    casts = casts or {}
    assignments = ", ".join(
        f"{c} = v.{c}"
        + (f"::{casts[c]}" if connection.vendor == "postgresql" and c in casts else "")
        for c in columns
    )
    names = ", ".join([key, *columns])
    with connection.cursor() as cursor:
        for start in range(0, len(rows), page_size):
            page = rows[start : start + page_size]
            if connection.vendor == "postgresql":
                from psycopg2.extras import execute_values

                key_cast = f"::{casts[key]}" if key in casts else ""
                execute_values(
                    cursor.cursor,
                    f"UPDATE {table} SET {assignments} FROM (VALUES %s) AS v({names}) "
                    f"WHERE {table}.{key} = v.{key}{key_cast}",
                    page,
                    page_size=page_size,
                )
            else:
                marks = ", ".join(["(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"] * len(page))
                params = [value for row in page for value in row]
                cursor.execute(
                    f"WITH v({names}) AS (VALUES {marks}) "
                    f"UPDATE {table} SET {assignments} FROM v WHERE {table}.{key} = v.{key}",
                    params,
                )


def upsert_rows(
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    conflict: str,
    update: Sequence[str],
    page_size: int = 2000,
    returning: str = "",
    only_if: str = "",
) -> list[tuple[Any, ...]] | None:
    """INSERT rows, updating `update` columns where the `conflict` column already exists
    (and, with `only_if`, only where that SQL condition on the existing row holds).

    With `returning` (PostgreSQL only) return those columns of every written row; SQLite's
    executemany cannot, so it returns None and the caller looks them up.
    """
    if not rows:
        return []
    names = ", ".join(columns)
    assignments = ", ".join(f"{c} = excluded.{c}" for c in update)
    suffix = f"ON CONFLICT ({conflict}) DO UPDATE SET {assignments}"
    if only_if:
        suffix += f" WHERE {only_if}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from psycopg2.extras import execute_values

            tail = f" RETURNING {returning}" if returning else ""
            result = execute_values(
                cursor.cursor,
                f"INSERT INTO {table} ({names}) VALUES %s {suffix}{tail}",
                rows,
                page_size=page_size,
                fetch=bool(returning),
            )
            return [tuple(row) for row in result] if returning else []
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks}) {suffix}", rows)
        return None
