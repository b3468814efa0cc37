"""Greenroom's search: one index over entities, docs pages, templates and plugins' documents.

`index` writes it (the catalog's ingestion, the docs build, collators), `query` reads it
(one function, Backstage's result shape, PostgreSQL full-text search or SQLite FTS5),
`sources` rebuilds it, `views` and `api` serve it.
"""
