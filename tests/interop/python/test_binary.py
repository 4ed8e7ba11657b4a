"""Binary (bytes) arguments at top level and nested, over websocket and polling."""
import pytest

from helpers import echo, emit_ack

ALL_BYTES = bytes(range(256))

CASES = {
    "top-level": [ALL_BYTES],
    "several-top-level-and-empty": [b"\x01\x02\x03", b"", b"\xff"],
    "nested-in-object": [{"file": b"\x00\x01\x02", "name": "f.bin"}],
    "nested-deep": [{"list": [b"\x01", {"deep": [b"\x02\x02", {"deeper": b"\x03\x03\x03"}]}], "meta": {"ok": True}}],
    "mixed-json-and-binary": ["text", 7, b"\x09\x08\x07", {"b": b"\x06"}, [b"\x05", None], False],
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("transports", [["websocket"], ["polling"]], ids=["websocket", "polling"])
def test_binary_round_trip(clients, transports, case):
    sio = clients.connect(transports=transports)
    args = CASES[case]
    assert echo(sio, *args) == args
    assert emit_ack(sio, "message-with-ack", *args) == args


@pytest.mark.parametrize("transports", [["websocket"], ["polling"]], ids=["websocket", "polling"])
def test_100kb_binary_round_trip(clients, transports):
    sio = clients.connect(transports=transports)
    data = bytes((i * 7919 + 13) & 0xFF for i in range(100_000))
    back = echo(sio, data)
    assert isinstance(back[0], bytes)
    assert back[0] == data
