"""The offline hash embedder: deterministic across processes, normalised, and semantically useful."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from genaiops.embeddings import (
    DEFAULT_MODEL,
    EmbeddingUnavailable,
    HashEmbedder,
    cosine,
    embedder_for,
    is_offline_model,
)

SCRIPT = (
    "import sys; from genaiops.embeddings import embedder_for;"
    "v = embedder_for('genaiops/hash-embedding-256').embed(['Reset my password please'])[0];"
    "print(','.join(f'{x:.6f}' for x in v))"
)


def test_default_model_shape_dtype_and_unit_norm() -> None:
    vectors = embedder_for(DEFAULT_MODEL).embed(
        ["How do I reset my password?", "Refund policy for annual plans"]
    )
    assert vectors.shape == (2, 256)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_same_vector_in_processes_with_different_hash_seeds() -> None:
    outputs = set()
    for seed in ("1", "2"):
        run = subprocess.run(
            [sys.executable, "-c", SCRIPT],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
        )
        outputs.add(run.stdout)
    assert len(outputs) == 1
    here = embedder_for(DEFAULT_MODEL).embed(["Reset my password please"])[0]
    assert outputs.pop().strip() == ",".join(f"{x:.6f}" for x in here)


def test_related_texts_are_closer_than_unrelated() -> None:
    emb = HashEmbedder(256)
    query, near, far = emb.embed(
        [
            "how to reset a forgotten password",
            "Resetting your password: click 'Forgot password' on the sign-in page",
            "Quarterly revenue grew in the EMEA region",
        ]
    )
    assert cosine(query, near) > cosine(query, far) + 0.05


def test_normalisation_makes_case_and_width_irrelevant() -> None:
    emb = HashEmbedder(64)
    a, b = emb.embed(
        ["PASSWORD reset", "\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44 Reset"]
    )  # fullwidth
    assert np.allclose(a, b)


def test_text_without_words_is_the_zero_vector_and_empty_batch_has_shape() -> None:
    emb = HashEmbedder(32)
    assert not emb.embed(["  ... !!! "]).any()
    assert emb.embed([]).shape == (0, 32)
    assert cosine(emb.embed([""])[0], emb.embed(["word"])[0]) == 0.0


def test_single_string_is_refused() -> None:
    with pytest.raises(TypeError):
        HashEmbedder().embed("not a list")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name",
    [
        "text-embedding-3-small",
        "genaiops/hash-embedding-",
        "genaiops/hash-embedding-8",
        "genaiops/hash-embedding-x",
    ],
)
def test_models_without_offline_implementation(name: str) -> None:
    assert not is_offline_model(name)
    with pytest.raises(EmbeddingUnavailable, match="no offline implementation"):
        embedder_for(name)


def test_other_dimensions_follow_the_name() -> None:
    assert embedder_for("genaiops/hash-embedding-1024").embed(["x y"]).shape == (1, 1024)
