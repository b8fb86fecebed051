"""Full-text search over OCR text and metadata (SQLite FTS5 / PostgreSQL tsvector)."""
