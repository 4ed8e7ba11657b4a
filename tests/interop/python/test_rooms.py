"""Rooms and broadcast with three clients A, B, C."""
import time

import pytest

from helpers import ABSENCE_WINDOW, emit_ack

LISTEN = ("room-message", "broadcast-message")


@pytest.mark.parametrize(
    "transports",
    [(["websocket"],) * 3, (["polling"],) * 3, (["websocket"], ["polling"], None)],
    ids=["websocket", "polling", "mixed"],
)
def test_rooms_and_broadcast(clients, transports):
    a, b, c = (clients.connect(transports=t, listen=LISTEN) for t in transports)

    assert emit_ack(a, "join", "r1") == ["joined"]
    assert emit_ack(b, "join", "r1") == ["joined"]

    args = ("hi room", 1, {"n": [2, 3]}, b"\x01\x02")
    a.emit("to-room", ("r1",) + args)
    assert b.inbox.wait("room-message") == args
    time.sleep(ABSENCE_WINDOW)
    assert a.inbox.received("room-message") == [], "sender must not get its own room message"
    assert c.inbox.received("room-message") == [], "C is not in the room"
    assert b.inbox.received("room-message") == [], "B gets the room message exactly once"

    c.emit("broadcast", ("to all", {"x": 1}))
    for s in (a, b, c):
        assert s.inbox.wait("broadcast-message") == ("to all", {"x": 1})

    # B leaves r1, C joins r1 (positive control): A -> r1 reaches C only
    assert emit_ack(b, "leave", "r1") == ["left"]
    assert emit_ack(c, "join", "r1") == ["joined"]
    a.emit("to-room", ("r1", "after leave"))
    assert c.inbox.wait("room-message") == ("after leave",)
    time.sleep(ABSENCE_WINDOW)
    assert b.inbox.received("room-message") == [], "B left the room"
    assert a.inbox.received("room-message") == []
