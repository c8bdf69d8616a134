"""Wire dialects. Each has pure decode (wire -> core) and encode (core -> wire) functions.

Imports core only: never api, services, engines or stores.
"""
