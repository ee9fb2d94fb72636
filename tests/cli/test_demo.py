"""``memograd demo``: terminal, --json, --out report (well-formed, same numbers as the JSON, the
two values of dL/dw11^1 agree), --no-color, and a real browser rendering the report."""

import json
import math
import re

import pytest

from memograd.cli import main
from memograd.viz.notation import fmt
from memograd.viz.wellformed import check_report


def _load_chromium_helpers():
    """tests/viz/chromium_shot.py, loaded by path (tests/cli is not a package)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "viz" / "chromium_shot.py"
    spec = importlib.util.spec_from_file_location("memograd_tests_chromium_shot", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_shot = _load_chromium_helpers()
SKIP_REASON, chromium, pixel_stats, screenshot = (
    _shot.SKIP_REASON,
    _shot.chromium,
    _shot.pixel_stats,
    _shot.screenshot,
)

ANSI = re.compile(r"\x1b\[")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One `memograd demo --quick --json --out report.html`: JSON and report from the same run."""
    import contextlib
    import io

    out = tmp_path_factory.mktemp("demo") / "report.html"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["demo", "--quick", "--json", "--out", str(out)])
    assert code == 0
    data = json.loads(buf.getvalue())
    return data, out


def test_json_has_every_available_section_and_the_report_path(quick_run):
    from memograd.lesson import sections

    data, out = quick_run
    for s in sections():
        assert s.KEY in data
    assert data["report"] == str(out.resolve())
    assert data["network"]["parameters_total"] == 15


def test_report_is_well_formed_and_self_contained(quick_run):
    data, out = quick_run
    info = check_report(out.read_text(encoding="utf-8"))
    # network, two chain-rule pictures, memo-table lifetimes, two complexity charts at least
    assert len(info["svgs"]) >= 6
    # one <section> per lesson section, plus the summary
    assert info["tags"]["section"] == sum(1 for k in data if k != "report") + 1


def test_report_contains_the_numbers_of_the_json(quick_run):
    data, out = quick_run
    text = check_report(out.read_text(encoding="utf-8"))["text"]
    net = data["network"]
    wanted = [fmt(net["L"]), fmt(net["yhat"]), *(fmt(n["o"]) for n in net["neurons"])]
    wanted += [fmt(v) for v in net["inputs"].values()]
    memo = data["memo_table"]
    wanted += [fmt(r["adjoint"]) for r in memo["rows"]]
    wanted += [str(memo["nodes"]), str(memo["edges"]), str(memo["path_products_naive"])]
    cx = data["complexity"]
    wanted += [fmt(r["naive"]) for r in cx["rows"]] + [fmt(r["backprop"]) for r in cx["rows"]]
    cr = data["chain_rule"]
    wanted += [fmt(v, 6) for p in cr["two_paths"]["paths"] for v in p["values"]]
    wanted += [fmt(cr["one_path"]["paths"][0]["product"], 6)]
    wanted += [str(cr["cost"]["naive"]), str(cr["cost"]["backprop"])]
    wanted += [fmt(r["paths_to_w11^1"]) for r in cx["rows"]] + [fmt(r["edges"]) for r in cx["rows"]]
    wanted += [fmt(h["adjoint"]) for h in memo["section_3_hits"]]
    wanted += [str(memo["multiplications"]), str(memo["additions"]), str(memo["peak_entries"])]
    if "memoization" in data:
        m = data["memoization"]
        wanted += [fmt(m["notes_call"]["value"]), fmt(m["naive_38"]["calls_predicted"])]
        wanted += [str(m["notes_call"]["calls"]), str(m["notes_call"]["hits"])]
        for run in m["comparison"]["runs"].values():
            wanted += [fmt(run["value"]), fmt(run["calls"])]
            if run["hits"] is not None:
                wanted.append(fmt(run["hits"]))
    if "training" in data:
        t = data["training"]
        wanted += [t["architecture"], str(t["parameters"]), f"{t['test_accuracy']:.3f}"]
        wanted += [f"{t['samples_per_second']:,}", str(t["steps"])]
    missing = [w for w in wanted if w not in text]
    assert not missing, missing


def test_the_two_printed_values_of_dL_dw11_1_agree(quick_run):
    data, out = quick_run
    html = out.read_text(encoding="utf-8")
    path_sum = float(re.search(r'id="path-sum">([^<]+)<', html).group(1))
    backprop = float(re.search(r'id="backprop">([^<]+)<', html).group(1))
    assert math.isclose(path_sum, backprop, rel_tol=1e-12)
    assert math.isclose(path_sum, data["chain_rule"]["two_paths"]["path_sum"], rel_tol=1e-12)


def test_terminal_output_no_color(capsys):
    assert main(["demo", "--quick", "--no-color", "--only", "network,chain_rule"]) == 0
    out = capsys.readouterr().out
    assert not ANSI.search(out)
    assert "(2+1) = 3" in out and "path sum" in out and "equal" in out
    # the sections keep their numbers of the whole demo ("section 3" is the same everywhere)
    assert "2. The network" in out and "3. The chain rule" in out and "1. Memoization:" not in out
    # the summary repeats dL/dw11^1 exactly as section 3 printed it, in the same notation
    path_sum = re.search(r"path sum = (\S+)", out).group(1)
    flat = " ".join(out.split())  # rich wraps long lines at 80 columns
    assert f"backprop's ∂L/∂w₁₁¹ = {path_sum} equals the sum of its 2 paths ({path_sum})" in flat
    assert "w11^1" not in out


def test_summary_states_the_notes_points_with_this_runs_numbers(quick_run):
    data, out = quick_run
    text = check_report(out.read_text(encoding="utf-8"))["text"]
    assert "Summary" in text and "Backpropagation = chain rule + memoization" in text
    last = data["complexity"]["rows"][-1]
    assert f"to {fmt(last['naive'])} operations" in text


def test_a_failing_section_is_reported_and_the_others_still_run(tmp_path, capsys, monkeypatch):
    from memograd.lesson import network

    def broken(options):
        raise RuntimeError("boom")

    monkeypatch.setattr(network, "compute", broken)
    out = tmp_path / "r.html"
    code = main(["demo", "--quick", "--only", "network,chain_rule", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 1
    assert "section 'network' failed: RuntimeError: boom" in captured.err
    assert "path sum" in captured.out  # chain_rule still ran
    text = check_report(out.read_text(encoding="utf-8"))["text"]
    assert "This section failed: RuntimeError: boom" in text
    with pytest.raises(RuntimeError, match="boom"):
        main(["demo", "--quick", "--only", "network", "--debug"])


def test_unknown_section_is_a_usage_error(capsys):
    assert main(["demo", "--only", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown section nope" in err and "network" in err


@pytest.mark.skipif(chromium() is None, reason=SKIP_REASON)
def test_headless_chromium_renders_the_report(quick_run, tmp_path):
    _, out = quick_run
    stats = pixel_stats(screenshot(out, tmp_path / "report.png", size=(1100, 3000)))
    assert stats["nonwhite"] > 0.05, stats  # a blank page is 0
    assert stats["coloured"] > 0.001, stats  # highlighted paths, charts


def test_out_naming_a_folder_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    from memograd.lesson import network

    def never(options):
        raise AssertionError("the lesson ran although --out was unusable")

    monkeypatch.setattr(network, "compute", never)
    for out in (str(tmp_path), str(tmp_path / "new") + "/"):
        assert main(["demo", "--only", "network", "--out", out]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "is a folder; give a file name" in err


def test_unwritable_report_is_one_line_and_exit_1(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = main(["demo", "--quick", "--only", "network", "--out", str(blocker / "r.html")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert f"cannot write the report to {blocker / 'r.html'}" in err


def test_ascii_demo_is_all_ascii_and_unicode_is_the_default(capsys):
    """Issue 13.6: one notation per output kind; --ascii gives the other, whole (trees, bars and
    tables included: no '?' for a character without an ASCII form)."""
    assert (
        main(["demo", "--quick", "--no-color", "--only", "memoization,chain_rule", "--ascii"]) == 0
    )
    out = capsys.readouterr().out
    assert out.isascii() and "?" not in out.replace("?)", "")
    assert "dL/dw11^1" in out and "L -> yhat -> o21 -> o11 -> w11^1" in out
    assert "|-- fib(4) = 5" in out
    assert main(["demo", "--quick", "--no-color", "--only", "chain_rule"]) == 0
    out = capsys.readouterr().out
    assert "∂L/∂w₁₁¹" in out and "L → ŷ → o₂₁ → o₁₁ → w₁₁¹" in out and "w11^1" not in out
