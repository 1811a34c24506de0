"""The ``openai-codex`` LiteLLM provider: pure request/stream core plus thin sync/async shells."""
