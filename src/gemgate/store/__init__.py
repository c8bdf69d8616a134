"""Persistence: SQL through SQLAlchemy 2 (SQLite by default). Imports core only."""
