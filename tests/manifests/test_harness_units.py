"""Pure pieces of the harness (no tools needed): strict schema conversion, kubeconform output
parsing, source mapping, kustomization discovery."""

from __future__ import annotations

from pathlib import Path

import jsonschema

from genaiops.manifests.build import find_roots
from genaiops.manifests.harness import parse_errors
from genaiops.manifests.schemas import closure, from_crds, schema_locations, strictify
from genaiops.manifests.sources import SourceIndex

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "spec": {
        "group": "example.com",
        "names": {"kind": "Widget"},
        "versions": [
            {
                "name": "v1",
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "apiVersion": {"type": "string"},
                            "kind": {"type": "string"},
                            "metadata": {"type": "object"},
                            "spec": {
                                "type": "object",
                                "properties": {
                                    "size": {"x-kubernetes-int-or-string": True},
                                    "properties": {"type": "string"},  # a field literally named "properties"
                                    "extra": {
                                        "type": "object",
                                        "x-kubernetes-preserve-unknown-fields": True,
                                        "properties": {"a": {"type": "string"}},
                                    },
                                },
                            },
                        },
                    }
                },
            }
        ],
    },
}
META = {
    "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "additionalProperties": False,
    }
}


def _widget_schema() -> dict:
    [(key, schema)] = list(from_crds([CRD], META))
    assert key == ("example.com", "widget_v1.json")
    return schema


def test_crd_schema_is_strict_but_honours_preserve_unknown_fields() -> None:
    schema = _widget_schema()
    ok = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"size": 3, "properties": "x", "extra": {"anything": 1}},
    }
    jsonschema.validate(ok, schema)
    jsonschema.validate({**ok, "spec": {**ok["spec"], "size": "50%"}}, schema)
    for broken in (
        {**ok, "spec": {**ok["spec"], "sise": 3}},  # unknown field
        {**ok, "metadata": {"name": "w", "labells": {}}},  # ObjectMeta replaced the bare object
        {**ok, "spec": {**ok["spec"], "size": 1.5}},
    ):  # int-or-string
        try:
            jsonschema.validate(broken, schema)
        except jsonschema.ValidationError:
            continue
        raise AssertionError(f"accepted {broken}")


def test_strictify_leaves_maps_and_literals_alone() -> None:
    node = {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "properties": {"a": {"type": "string"}},
        "enum": [{"properties": {}}],
    }
    out = strictify(node)
    assert out["additionalProperties"] == {"type": "string"}
    assert out["enum"] == [{"properties": {}}]
    assert (
        strictify({"properties": {"x": {"type": "object", "properties": {}}}})["properties"]["x"][
            "additionalProperties"
        ]
        is False
    )


def test_closure_follows_refs_transitively() -> None:
    defs = {
        "A": {"$ref": "#/definitions/B"},
        "B": {"properties": {"c": {"$ref": "#/definitions/C"}}},
        "C": {"type": "string"},
        "D": {"type": "string"},
    }
    assert set(closure(defs, ["A"])) == {"A", "B", "C"}


def test_schema_location_template_is_kubeconform_syntax() -> None:
    [location] = schema_locations([Path("/cache/kubernetes-v1.35.4")])
    assert location == (
        "/cache/kubernetes-v1.35.4/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json"
    )


def test_nested_kubeconform_errors_are_split_per_field() -> None:
    entry = {
        "msg": "problem validating schema. Check JSON formatting: jsonschema validation failed with "
        "'file:///x.json#' - at '/spec/dependencies/0': validation failed   - at "
        "'/spec/dependencies/0/eventName': got boolean, want string   - at "
        "'/spec/dependencies/0': additional properties 'bogus' not allowed",
        "validationErrors": [{"path": "", "msg": "validation failed"}],
    }
    errors = parse_errors(entry)
    assert [(e.field, e.message) for e in errors] == [
        ("/spec/dependencies/0/eventName", "got boolean, want string"),
        ("/spec/dependencies/0/bogus", "unknown field 'bogus' (additional properties 'bogus' not allowed)"),
    ]


def test_source_index_maps_a_built_resource_to_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "base/kustomization.yaml").write_text("resources: [wt.yaml]\n", encoding="utf-8")
    (tmp_path / "base/wt.yaml").write_text(
        "# comment\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n---\n"
        "apiVersion: argoproj.io/v1alpha1\nkind: WorkflowTemplate\nmetadata:\n  name: ci\nspec:\n"
        "  templates:\n    - name: main\n      bogus: 1\n",
        encoding="utf-8",
    )
    (tmp_path / "overlay").mkdir()
    (tmp_path / "overlay/kustomization.yaml").write_text(
        "namePrefix: dev-\nresources: [../base]\n", encoding="utf-8"
    )
    doc = SourceIndex(tmp_path / "overlay").find("WorkflowTemplate", "dev-ci")
    assert doc is not None and doc.file == (tmp_path / "base/wt.yaml").resolve()
    assert doc.line_of("/spec/templates/0/bogus") == 14


def test_component_folders_are_not_build_roots(tmp_path: Path) -> None:
    for folder, kind in (
        ("platform/base", "Kustomization"),
        ("platform/kinds/prompt", "Component"),
        ("environments/dev", "Kustomization"),
    ):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "kustomization.yaml").write_text(f"kind: {kind}\n", encoding="utf-8")
    (tmp_path / "environments/.hidden").mkdir()
    (tmp_path / "environments/.hidden/kustomization.yaml").write_text("resources: []\n", encoding="utf-8")
    roots = [p.relative_to(tmp_path).as_posix() for p in find_roots(tmp_path, ["platform", "environments"])]
    assert roots == ["environments/dev", "platform/base"]
