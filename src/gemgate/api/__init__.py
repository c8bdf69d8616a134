"""HTTP only: routers per dialect, auth extraction, body limits, stream framing.

Calls services and dialects; never engines or stores directly.
"""
