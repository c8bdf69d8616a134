"""Text-embedding engines (core.ports.Embedder): sentence-transformers models on the CPU.

Must not import the HTTP layer, services, dialects or stores. torch and sentence-transformers
are imported only in each model's worker process (process.py), never in the server (~6 s).
"""
