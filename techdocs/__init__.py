"""TechDocs: documentation sites built from `backstage.io/techdocs-ref` sources, served in
the portal at Backstage's URLs (/docs and /api/techdocs)."""
