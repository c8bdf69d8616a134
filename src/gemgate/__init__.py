"""gemgate: a self-hosted Gemini API over local llama.cpp models and upstream relays."""

__version__ = "0.1.0"
