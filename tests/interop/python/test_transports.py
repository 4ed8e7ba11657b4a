"""Transports: websocket-only, polling-only and the default polling -> websocket upgrade."""
import time

import pytest

from helpers import echo, emit_ack


def round_trips(sio):
    assert echo(sio, "hello", 42, {"nested": [True, None, "x"]}) == ["hello", 42, {"nested": [True, None, "x"]}]
    assert emit_ack(sio, "message-with-ack", "a", 1, {"b": 2}) == ["a", 1, {"b": 2}]
    # call(): the blocking ack API (returns the single ack argument)
    assert sio.call("message-with-ack", "single", timeout=5) == "single"


@pytest.mark.parametrize(
    "transports, expected",
    [(["websocket"], "websocket"), (["polling"], "polling"), (None, "websocket")],
    ids=["websocket-only", "polling-only", "default-upgrade"],
)
def test_transport_echo_and_ack(clients, transports, expected):
    sio = clients.connect(transports=transports)
    assert sio.connected
    assert sio.transport() == expected
    round_trips(sio)
    assert sio.transport() == expected


@pytest.mark.parametrize("transports", [["websocket"], ["polling"]], ids=["websocket", "polling"])
def test_session_survives_heartbeats(clients, transports):
    sio = clients.connect(transports=transports)
    time.sleep(1.0)  # > 3 ping intervals of 300 ms
    assert sio.connected
    assert sio.disconnect_reasons == []
    round_trips(sio)
