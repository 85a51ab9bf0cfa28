"""The RAG-specific last step of a promotion or rollback: point the serving alias at the new collection.

A RAG config names its collection (``vector_store.collection``, one per index build) and the alias
the serving layer queries (``vector_store.alias``). Once the environment change is on the
environment branch, the alias in the environment's vector store (``vectorStore.url`` in
``environments/<env>/settings.yaml`` when it is a server, else the config's own ``url``) is moved
to the collection in one atomic Qdrant operation. The step is idempotent (an alias that already
points there is left alone) and refuses to point the alias at a collection that does not exist or
is empty. With the embedded store there is nothing to swap: each serving pod builds its own index.
"""

from __future__ import annotations

import os
from typing import Any

from genaiops import rules
from genaiops.errors import ArtifactError, UsageError
from genaiops.project import Project
from genaiops.ragindex import RagSpec
from genaiops.stages.runner import StageContext
from genaiops.vectorstore import connect

COLLECTION_MISSING = rules.rule(
    "promote/rag-collection-missing",
    "promote",
    "The collection the RAG config names does not exist (or is empty) in the environment's vector store.",
    "Build the index into that collection first (the indexing job), then promote again: the alias swap "
    "is the last, idempotent step.",
)


def swap_alias(
    manifest: dict[str, Any], project: Project, env: str, *, verify_only: bool = False
) -> dict[str, Any]:
    """Point the config's alias at its collection in ``env``'s vector store; returns what happened.

    ``verify_only`` checks that the collection is there without moving the alias (run before the
    GitOps commit, so a promotion never lands pointing at a missing index).
    """
    from genaiops.validate.rag import store_url

    try:
        spec = RagSpec.from_manifest(manifest)
    except (KeyError, TypeError) as exc:
        raise ArtifactError(f"rag.yaml lacks {exc} needed for the alias swap") from None
    if spec.alias is None:
        return {
            "status": "skipped",
            "reason": "no vector_store.alias: the serving layer queries the collection",
        }
    url = store_url(spec.url, StageContext(project=project, stage="promote", options={"env": env}))
    if url is None:
        return {"status": "skipped", "reason": "embedded vector store: each serving pod builds its own index"}
    store = connect(url, timeout=spec.timeout, api_key=_api_key(manifest))
    try:
        if spec.collection not in store.collections() or store.count(spec.collection) == 0:
            raise ArtifactError(
                f"collection {spec.collection!r} is missing or empty in {store.location}; "
                f"alias {spec.alias!r} was not moved",
                rule_id=COLLECTION_MISSING,
                hint=rules.RULES[COLLECTION_MISSING].hint,
            )
        current = store.aliases().get(spec.alias)
        if verify_only:
            return {
                "status": "verified",
                "alias": spec.alias,
                "collection": spec.collection,
                "current": current,
            }
        if current == spec.collection:
            return {"status": "unchanged", "alias": spec.alias, "collection": spec.collection}
        previous = store.swap_alias(spec.alias, spec.collection)
        return {"status": "swapped", "alias": spec.alias, "collection": spec.collection, "previous": previous}
    finally:
        store.close()


def _api_key(manifest: dict[str, Any]) -> str | None:
    store = manifest.get("vector_store") or {}
    name = store.get("api_key_env") if isinstance(store, dict) else None
    if not name:
        return None
    value = os.environ.get(str(name))
    if not value:
        raise UsageError(f"environment variable {name} (vector_store.api_key_env) is not set")
    return value
