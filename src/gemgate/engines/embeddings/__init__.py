"""Text-embedding engines (core.ports.Embedder): sentence-transformers models on the CPU.

Must not import the HTTP layer, services, dialects or stores. torch and sentence-transformers
are imported lazily, on the worker thread that loads the first model (~6 s).
"""
