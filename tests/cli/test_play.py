"""memograd play on the command line: --static writes one self-contained page; the server starts
on loopback, answers, and stops cleanly on Ctrl-C; bad arguments are one line and exit 2."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from memograd.cli import main


def _run(*args):
    return subprocess.run(
        [sys.executable, "-m", "memograd", "play", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_static_page_is_self_contained(tmp_path):
    out = tmp_path / "lesson.html"
    r = _run("--static", "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    html = out.read_text()
    assert json.loads(r.stdout) == {"path": str(out.resolve()), "bytes": len(html.encode())}
    assert "window.MEMOGRAD_STATIC" in html and "<script src=" not in html and "<link" not in html
    # nothing is fetched from elsewhere: no http(s) address outside text that names the server
    assert not re.search(r"""(src|href)=["']https?:""", html)
    blob = html.split("window.MEMOGRAD_STATIC = ", 1)[1].split(";</script>", 1)[0]
    data = json.loads(blob)
    assert (
        'explain {"activation":"sigmoid","net":[2,2,2,1],"seed":0,"wrt":"w11^1"}' in data["answers"]
    )
    assert set(data["trajectories"]) == {"moons", "circles", "spirals", "xor"}


@pytest.mark.parametrize(
    "args,words",
    [
        (["--static"], "--static needs --out"),
        (["--out", "x.html"], "--out is for --static"),
        (["--port", "70000"], "--port must be in [0, 65535]"),
        (["--port", "abc"], "invalid int value"),
    ],
)
def test_usage_errors_are_one_line_exit_2(capsys, args, words):
    assert main(["play", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and "\n" not in err and "Traceback" not in err


def test_server_serves_then_stops_cleanly_on_ctrl_c():
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "memograd", "play", "--no-browser", "--json"],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = proc.stderr.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        info = json.loads(proc.stdout.readline())  # --json: the address, on one line
        assert info["url"] == url and info["host"] == "127.0.0.1" and f":{info['port']}/" in url
        with urllib.request.urlopen(url + "api/presets", timeout=30) as r:
            assert json.loads(r.read())["net"] == [2, 2, 2, 1]
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert "stopped" in err and "Traceback" not in err


def test_a_port_in_use_is_a_runtime_error(capsys):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["play", "--no-browser", "--port", str(port)]) == 1
    err = capsys.readouterr().err.strip()
    assert f"cannot listen on 127.0.0.1:{port}" in err and "\n" not in err


def test_a_non_loopback_host_warns(capsys, monkeypatch):
    from memograd.play import server as srv

    class Fake:
        url = "http://0.0.0.0:1/"

        def serve_forever(self):
            raise KeyboardInterrupt

        def server_close(self):
            pass

    monkeypatch.setattr(srv, "make_server", lambda host, port: Fake())
    assert main(["play", "--no-browser", "--host", "0.0.0.0"]) == 0
    assert "reachable from other machines" in capsys.readouterr().err
