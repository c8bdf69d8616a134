"""Alembic revisions, one file each, numbered in order (0001_initial, 0002_...)."""
