"""The play server: loopback by default, fixed files only, 4xx with one message for bad requests."""

import json
import urllib.error
import urllib.request

import pytest

from memograd.play import api
from memograd.play.server import MAX_BODY


def _post(server, route, body: bytes, ctype="application/json"):
    req = urllib.request.Request(
        server.url + "api/" + route, data=body, method="POST", headers={"Content-Type": ctype}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_binds_to_loopback_on_a_free_port(server):
    host, port = server.server_address[:2]
    assert host == "127.0.0.1" and port > 0
    assert server.url == f"http://127.0.0.1:{port}/"


def test_serves_the_page_and_its_assets(server):
    for path, kind in [("", "text/html"), ("app.js", "javascript"), ("style.css", "text/css")]:
        with urllib.request.urlopen(server.url + path, timeout=30) as r:
            assert r.status == 200 and kind in r.headers["Content-Type"]
            assert "default-src 'self'" in r.headers["Content-Security-Policy"]
            assert len(r.read()) > 500


@pytest.mark.parametrize("path", ["../pyproject.toml", "assets/app.js", "%2e%2e/x", "etc/passwd"])
def test_no_other_path_is_served(server, path):
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(server.url + path, timeout=30)
    assert err.value.code == 404


def test_api_answers_json_equal_to_the_library(server):
    status, body = _post(server, "explain", json.dumps({"wrt": "w11^1"}).encode())
    assert status == 200 and body == json.loads(json.dumps(api.call("explain", {"wrt": "w11^1"})))


@pytest.mark.parametrize(
    "route,body,code,words",
    [
        ("explain", b"{not json", 400, "not JSON"),
        ("explain", b'{"wrt": "zz"}', 400, "no weight, bias or neuron"),
        ("explain", b"[1, 2]", 400, "JSON object"),
        ("nope", b"{}", 404, "unknown API route"),
        ("explain", b"\xff\xfe", 400, "not JSON"),
    ],
)
def test_bad_requests_are_4xx_with_one_message(server, route, body, code, words):
    status, answer = _post(server, route, body)
    assert status == code and words in answer["error"] and "\n" not in answer["error"]


def test_oversized_bodies_are_refused_before_reading(server):
    status, answer = _post(server, "explain", b"{" + b" " * (MAX_BODY + 1) + b"}")
    assert status == 413 and str(MAX_BODY) in answer["error"]


def test_other_methods_are_refused(server):
    req = urllib.request.Request(server.url + "api/explain", method="DELETE")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=30)
    assert err.value.code == 405
