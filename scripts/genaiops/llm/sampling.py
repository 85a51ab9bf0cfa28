"""A model config's sampling parameters as the OpenAI API names them: one mapping for eval and serving."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MANIFEST_TO_API = {
    "temperature": "temperature",
    "top_p": "top_p",
    "max_tokens": "max_tokens",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
    "stop_sequences": "stop",
}
"""model-config.yaml key -> OpenAI chat-completions parameter."""


def sampling_params(config: Mapping[str, Any]) -> dict[str, Any]:
    """The OpenAI-API sampling parameters of a model-config manifest (``extra_params.seed`` included)."""
    params = {api: config[key] for key, api in MANIFEST_TO_API.items() if config.get(key) is not None}
    extra = config.get("extra_params")
    if isinstance(extra, Mapping) and isinstance(extra.get("seed"), int):
        params["seed"] = extra["seed"]
    return params
