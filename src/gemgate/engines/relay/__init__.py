"""Upstream relays: implementations of core.ports.Upstream over HTTP.

Google AI Studio and Vertex AI (native Gemini REST), and any OpenAI-compatible server. They
speak to upstreams with the dialect code in gemgate.dialects; they never import services or
the HTTP layer of gemgate itself.
"""
