"""Use cases over core and its ports: generation, models, keys.

Imports core only; never api, dialects' wire models, engines or stores directly.
"""
