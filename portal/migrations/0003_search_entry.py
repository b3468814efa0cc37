"""The search index: SearchEntry plus each database's full-text index beside it.

- PostgreSQL: `search_vector`, a stored generated tsvector (title weight A, text weight B,
  the `english` configuration) with a GIN index. Generated rather than kept by a trigger or
  computed in the upsert: PostgreSQL recomputes it on every write of the row, whoever
  writes it (the index API, the admin, a raw UPDATE), so it can never go stale, and it
  costs the same one to_tsvector call a trigger would. Django does not know the column;
  `portal.search.query` reads it in raw SQL.
- SQLite: `portal_searchentry_fts`, an FTS5 external-content table over title and text
  (porter stemming on unicode61, diacritics folded), kept in step by triggers; it stores
  only the index, the text stays in portal_searchentry.
"""

import django.utils.timezone
from django.db import migrations, models

PG_FORWARD = [
    "ALTER TABLE portal_searchentry ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(text, '')), 'B')) STORED",
    "CREATE INDEX portal_search_vector_gin ON portal_searchentry USING gin (search_vector)",
]
PG_REVERSE = [
    "DROP INDEX IF EXISTS portal_search_vector_gin",
    "ALTER TABLE portal_searchentry DROP COLUMN IF EXISTS search_vector",
]
SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE portal_searchentry_fts USING fts5(title, text, "
    "content='portal_searchentry', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER portal_searchentry_ai AFTER INSERT ON portal_searchentry BEGIN "
    "INSERT INTO portal_searchentry_fts(rowid, title, text) "
    "VALUES (new.id, new.title, new.text); END",
    "CREATE TRIGGER portal_searchentry_ad AFTER DELETE ON portal_searchentry BEGIN "
    "INSERT INTO portal_searchentry_fts(portal_searchentry_fts, rowid, title, text) "
    "VALUES ('delete', old.id, old.title, old.text); END",
    # Only when the indexed text changes: a re-stamped row costs nothing here.
    "CREATE TRIGGER portal_searchentry_au AFTER UPDATE OF title, text ON portal_searchentry "
    "BEGIN "
    "INSERT INTO portal_searchentry_fts(portal_searchentry_fts, rowid, title, text) "
    "VALUES ('delete', old.id, old.title, old.text); "
    "INSERT INTO portal_searchentry_fts(rowid, title, text) "
    "VALUES (new.id, new.title, new.text); END",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS portal_searchentry_au",
    "DROP TRIGGER IF EXISTS portal_searchentry_ad",
    "DROP TRIGGER IF EXISTS portal_searchentry_ai",
    "DROP TABLE IF EXISTS portal_searchentry_fts",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor, [])
        with schema_editor.connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("portal", "0002_preferences_onboarding")]

    operations = [
        migrations.CreateModel(
            name="SearchEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("type", models.CharField(max_length=100)),
                ("key", models.CharField(max_length=500)),
                ("title", models.CharField(max_length=500)),
                ("text", models.TextField(blank=True)),
                ("location", models.CharField(max_length=2000)),
                ("kind", models.CharField(blank=True, max_length=63)),
                ("lifecycle", models.CharField(blank=True, max_length=200)),
                ("owner", models.CharField(blank=True, max_length=255)),
                ("namespace", models.CharField(blank=True, max_length=63)),
                ("fields", models.JSONField(blank=True, default=dict)),
                ("content_hash", models.CharField(max_length=64)),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "verbose_name_plural": "search entries",
                "indexes": [
                    models.Index(fields=["type", "title"], name="portal_search_type_title"),
                    models.Index(fields=["kind", "title"], name="portal_search_kind_title"),
                    models.Index(fields=["owner"], name="portal_search_owner"),
                    models.Index(fields=["lifecycle"], name="portal_search_lifecycle"),
                ],
                "constraints": [
                    models.UniqueConstraint(fields=("type", "key"), name="portal_search_type_key")
                ],
            },
        ),
        migrations.RunPython(
            _run({"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": PG_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
    ]
