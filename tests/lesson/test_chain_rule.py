import math
import re

from memograd.lesson import chain_rule
from memograd.lesson.network import example
from memograd.viz.report import build_report
from memograd.viz.wellformed import check_report


def sigma_prime(z):
    s = 1 / (1 + math.exp(-z))
    return s * (1 - s)


def test_one_path_for_w11_2_and_two_for_w11_1():
    data = chain_rule.compute({})
    one, two = data["one_path"], data["two_paths"]
    assert one["count"] == 1 and one["paths"][0]["nodes"] == ["L", "yhat", "o21", "w11^2"]
    assert two["count"] == 2
    assert [p["nodes"] for p in two["paths"]] == [
        ["L", "yhat", "o21", "o11", "w11^1"],
        ["L", "yhat", "o22", "o11", "w11^1"],
    ]
    assert data["equal"] and two["difference"] < 1e-15
    assert math.isclose(two["path_sum"], two["engine_grad"], rel_tol=1e-12)


def test_factors_recomputed_by_hand():
    """The notes' formula with plain floats: dL/dw11^1 = dL/dyhat [ ... + ... ]."""
    ex = example()
    data = chain_rule.compute({})
    v = {n.name: n for n in ex.loss.nodes() if n.name or n.label}
    z = {n.label: n.data for n in ex.loss.nodes() if n.label}
    w = ex.model.weights()
    dL_dy = 2 * (ex.output.data - ex.targets[0])
    dy_do21 = sigma_prime(z["z31"]) * w["w11^3"]
    dy_do22 = sigma_prime(z["z31"]) * w["w21^3"]
    do21_do11 = sigma_prime(z["z21"]) * w["w11^2"]
    do22_do11 = sigma_prime(z["z22"]) * w["w12^2"]
    do11_dw = sigma_prime(z["z11"]) * v["x1"].data
    want = dL_dy * (dy_do21 * do21_do11 * do11_dw + dy_do22 * do22_do11 * do11_dw)
    assert math.isclose(data["two_paths"]["path_sum"], want, rel_tol=1e-12)
    p1 = data["two_paths"]["paths"][0]["values"]
    for got, exp in zip(p1, [dL_dy, dy_do21, do21_do11, do11_dw]):
        assert math.isclose(got, exp, rel_tol=1e-12)
    w2 = dL_dy * dy_do21 * sigma_prime(z["z21"]) * v["o11"].data
    assert math.isclose(data["one_path"]["paths"][0]["product"], w2, rel_tol=1e-12)


def test_memo_hits_are_the_layer_2_prefixes():
    data = chain_rule.compute({})
    pres = data["two_paths"]["reused_prefixes"]
    assert [p["term"] for p in pres] == ["∂L/∂o21", "∂L/∂o22"]
    assert pres[0]["upto"] == 2 and "w11^2" in pres[0]["users"]
    assert "w12^2" in pres[1]["users"]
    one = data["one_path"]["paths"][0]
    # the reused value is exactly the product of the first two factors of w11^2's path
    assert math.isclose(pres[0]["value"], one["values"][0] * one["values"][1], rel_tol=1e-12)


def test_html_prints_two_equal_values_and_is_well_formed(capsys):
    from memograd.cli import UI

    data = chain_rule.compute({})
    chain_rule.render(data, UI(no_color=True))
    assert "equal" in capsys.readouterr().out
    text = build_report([(chain_rule.KEY, chain_rule.TITLE, chain_rule.html(data))])
    info = check_report(text)
    assert len(info["svgs"]) == 2
    ps = re.search(r'id="path-sum">([^<]+)<', text).group(1)
    bp = re.search(r'id="backprop">([^<]+)<', text).group(1)
    assert math.isclose(float(ps), float(bp), rel_tol=1e-12)
    assert math.isclose(float(bp), data["two_paths"]["backprop"], rel_tol=1e-12)


def test_terminal_names_memo_hits_in_the_notes_notation_and_counts_the_cost(capsys):
    from memograd.cli import UI

    data = chain_rule.compute({})
    chain_rule.render(data, UI(no_color=True))
    out = capsys.readouterr().out
    # every name as the rest of the lesson writes it (o₂₁, w₁₁¹), none in ASCII (o21, w11^1)
    assert not re.search(r"[owbz]\d\d|\^", out), out
    assert "∂L/∂ŷ · ∂ŷ/∂o₂₁ = ∂L/∂o₂₁ = -0.0386132" in out
    c = data["cost"]
    assert c["backprop"] == c["backprop_multiplications"] + c["backprop_additions"]
    assert (
        f"Backprop's {c['backprop']} = {c['backprop_multiplications']} multiplications "
        f"(one per edge) + {c['backprop_additions']} additions" in out
    )
    # the notes' bracket, one path per line
    assert out.count("+ ∂ŷ/∂o₂₂ · ∂o₂₂/∂o₁₁ · ∂o₁₁/∂w₁₁¹]") == 1
