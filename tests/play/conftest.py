"""One play server per test module, on a free loopback port, stopped afterwards."""

import threading

import pytest


@pytest.fixture(scope="module")
def server():
    from memograd.play.server import make_server

    srv = make_server()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()
