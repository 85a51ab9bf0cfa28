"""The e2e harness's failure digest: the probes' own failure messages picked out of a chainsaw run's output,
so the end of a CI log says why a scenario failed (the debug dump around them is hundreds of lines)."""

from __future__ import annotations

from pathlib import Path

from genaiops_e2e.scenarios import DIGEST_LINES, _chainsaw, probe_failures

CHAINSAW_OUTPUT = """\
    sink.go:61: | 21:17:07 | scheduled-checks | drift and RAG freshness run once | CMD | RUN |
        === COMMAND
        /usr/bin/sh -c python -m genaiops_e2e.probe wait e2e-drift --phase Succeeded --timeout 880
        === STDERR
        e2e: $ kubectl -n genai-pipelines-dev get workflow e2e-drift -o json
        probe wait: e2e-drift ended Failed, not Succeeded: eval(0): Failed Error (exit code 1)
        --- e2e-drift-eval-123 (main, last 15 lines)
        eval: prompt/review-sentiment: exact_match 0.41 < 0.80
    sink.go:61: | 21:18:09 | scheduled-checks | drift and RAG freshness run once | CATCH | BEGIN |
        probeLike line without the prefix: ignored
        10m  Warning  BackOff  pod/rag-ci-sensor  Back-off restarting failed container
""".splitlines()


def test_the_probe_failure_and_its_detail_are_kept_and_the_dump_is_not() -> None:
    digest = probe_failures(CHAINSAW_OUTPUT)
    assert digest == [
        "probe wait: e2e-drift ended Failed, not Succeeded: eval(0): Failed Error (exit code 1)",
        "--- e2e-drift-eval-123 (main, last 15 lines)",
        "eval: prompt/review-sentiment: exact_match 0.41 < 0.80",
    ]


def test_a_long_failure_is_cut_and_no_failure_gives_nothing() -> None:
    long = ["probe deployed: mismatch"] + [f"line {i}" for i in range(200)]
    assert len(probe_failures(long)) == DIGEST_LINES
    assert probe_failures(CHAINSAW_OUTPUT[:4]) == []


def test_chainsaw_runs_take_paths_and_keep_every_line(tmp_path: Path) -> None:
    """The runner streams and keeps the output; arguments may be paths (the chainsaw binary is one)."""
    script = tmp_path / "fake-chainsaw"
    script.write_text("#!/bin/sh\necho first\necho 'probe wait: it broke' >&2\nexit 3\n")
    script.chmod(0o755)
    code, lines = _chainsaw([script, tmp_path], {}, tmp_path, timeout=30)
    assert code == 3
    assert probe_failures(lines) == ["probe wait: it broke"]
