"""Indexes the catalog page's filters need at 100,000 entities (PostgreSQL), and one that lets
the catalog's version ignore runs that changed nothing (both databases).

- Tags: a GIN index on the search document's tags array answers `?|` (filters.expr_sql).
- Text box: a trigram index over name, title and description answers `LIKE '%term%'`
  (filters.text_search_sql). pg_trgm is a trusted extension (PostgreSQL 13+), so the
  database's owner may create it; where that is refused the index is left out and the text
  box still works, by scanning.
"""

from django.db import migrations

TEXT_EXPRESSION = (
    "lower(name || ' ' || coalesce(body #>> '{metadata,title}', '') "
    "|| ' ' || coalesce(body #>> '{metadata,description}', ''))"
)


def create_postgresql_indexes(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS catalog_entity_tags_gin "
            "ON catalog_entity USING gin ((search -> 'metadata.tags'))"
        )
        cursor.execute("SAVEPOINT trigram")
        try:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except Exception:  # noqa: BLE001 - no privilege: go on without the index
            cursor.execute("ROLLBACK TO SAVEPOINT trigram")
        else:
            cursor.execute(
                "CREATE INDEX IF NOT EXISTS catalog_entity_text_trgm "
                f"ON catalog_entity USING gin (({TEXT_EXPRESSION}) gin_trgm_ops)"
            )
        # Statistics for the new expressions: without them the planner guesses a tag matches
        # 0.1% of entities and sorts every match (335 ms) instead of walking the name index
        # (1 ms) for a common tag.
        cursor.execute("ANALYZE catalog_entity")


def drop_postgresql_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS catalog_entity_text_trgm")
        cursor.execute("DROP INDEX IF EXISTS catalog_entity_tags_gin")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0004_entity_visits")]

    operations = [
        migrations.RunPython(create_postgresql_indexes, drop_postgresql_indexes),
        migrations.RunSQL(
            "CREATE INDEX catalog_run_changed_finished ON catalog_ingestionrun (finished_at) "
            "WHERE (added + updated + removed + orphaned) > 0",
            "DROP INDEX catalog_run_changed_finished",
        ),
    ]
