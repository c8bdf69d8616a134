"""The code-execution sandbox: runs untrusted Python in a separate, isolated process.

Owns the isolation (bubblewrap namespaces, an unprivileged uid, rlimits; a documented weaker
fallback without namespaces), the limits and the bootstrap that runs inside. Implements
core.ports.CodeRunner; must not import services, api or app. Threat model: docs/security.md.
"""
