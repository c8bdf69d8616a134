"""Google's native Gemini REST dialect."""
