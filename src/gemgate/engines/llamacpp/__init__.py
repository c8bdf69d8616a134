"""The embedded engine: llama.cpp's server engine in process through xllamacpp."""
