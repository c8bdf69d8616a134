"""Implementations of core.ports.Engine. Imports core only (never api, services or store)."""
