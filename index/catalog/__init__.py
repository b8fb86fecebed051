"""The catalogue: the database, documents and their pages, jobs, status."""
