"""Acknowledgements in both directions."""
import time

import pytest

from helpers import SERVER_URL, emit_ack

TRANSPORTS = pytest.mark.parametrize("transports", [["websocket"], ["polling"]], ids=["websocket", "polling"])


@TRANSPORTS
def test_client_to_server_ack_multiple_args(clients, transports):
    sio = clients.connect(transports=transports)
    args = ["one", 2, {"three": [3]}, None, True, b"\x04"]
    assert emit_ack(sio, "message-with-ack", *args) == args
    assert emit_ack(sio, "message-with-ack") == []
    # call() returns a multi-argument ack as a sequence
    assert list(sio.call("message-with-ack", ("x", "y"), timeout=5)) == ["x", "y"]


@TRANSPORTS
def test_server_to_client_ack_answered(clients, transports):
    sio = clients.new(listen=["server-ack-result"])
    requests = []

    @sio.on("server-ack-request")
    def on_request(*args):
        requests.append(args)
        return ("pong",) + args + (b"\x07\x07",)  # a tuple becomes several ack arguments

    sio.connect(SERVER_URL, transports=transports, wait_timeout=5)
    sio.emit("server-ack", ("ping", 1, {"two": 2}))
    (result,) = sio.inbox.wait("server-ack-result")
    assert requests == [("ping", 1, {"two": 2})]
    assert result == {"reply": ["pong", "ping", 1, {"two": 2}, b"\x07\x07"]}


@TRANSPORTS
def test_server_to_client_ack_timeout(clients, transports):
    # python-socketio always acknowledges when the handler returns, so "not
    # answering" means answering too late: after the server's 1 s ack timeout.
    sio = clients.new(listen=["server-ack-result"])
    asked = []

    @sio.on("server-ack-request")
    def on_request(*args):
        asked.append(args)
        time.sleep(1.5)
        return "too late"

    sio.connect(SERVER_URL, transports=transports, wait_timeout=5)
    start = time.monotonic()
    sio.emit("server-ack", "ignored")
    (result,) = sio.inbox.wait("server-ack-result")
    elapsed = time.monotonic() - start
    assert result == {"error": "timeout"}
    assert asked == [("ignored",)]
    assert 0.9 <= elapsed < 3.0, f"timeout after {elapsed:.2f} s, expected ~1 s"
    # the late ack is ignored by the server and the session stays usable
    time.sleep(0.7)
    assert sio.connected
    assert emit_ack(sio, "message-with-ack", "still ok") == ["still ok"]
