"""Alembic migrations of gemgate's schema, shipped inside the package (see docs/design.md).

`env.py` runs only through `gemgate.store.database`, on a connection it hands over; the revisions
in `versions/` import nothing of ours, so an old revision never changes when a model does.
"""
