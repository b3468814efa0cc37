"""The software catalog: locations, ingestion, entities and their relations."""
