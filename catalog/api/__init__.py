"""Backstage's catalog REST API, served under /api/catalog/."""
