"""OpenAI's chat-completions dialect, as served at /v1 and /v1beta/openai (Google's path).

schemas.py holds the wire models (named as in OpenAI's reference); decode.py turns a
ChatCompletionRequest into a core GenerateRequest, with messages.py folding the messages into
contents; encode.py turns core responses and stream chunks into chat.completion /
chat.completion.chunk JSON; errors.py builds OpenAI's error envelope. Pure: imports core only,
never api, services, engines or stores.
"""
