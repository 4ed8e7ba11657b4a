"""Disconnect reasons, seen by the client and server-side (via a watcher client)."""
import pytest

from helpers import emit_ack, wait_until

TRANSPORTS = pytest.mark.parametrize("transports", [["websocket"], ["polling"]], ids=["websocket", "polling"])


def watcher(clients):
    w = clients.connect(transports=["websocket"], listen=["peer-disconnected", "message-back"])
    assert emit_ack(w, "watch-disconnects") == ["watching"]
    return w


def server_side_reason(w, sid):
    _, reason = w.inbox.wait("peer-disconnected", where=lambda s, r: s == sid)
    return reason


@TRANSPORTS
def test_client_disconnect(clients, transports):
    w = watcher(clients)
    sio = clients.connect(transports=transports)
    sid = sio.get_sid()
    sio.disconnect()
    # python-socketio's disconnect() queues DISCONNECT ("41") and Engine.IO CLOSE
    # ("1") and closes the transport right away; they often reach the server in
    # one read (polling: one POST payload). The Node reference handles namespace
    # packets on the next tick but the transport close immediately, so it then
    # reports "transport close". Both are correct outcomes of a client disconnect.
    # On polling there is a third: python-engineio's write loop checks
    # `state == 'connected'` before sending, and disconnect() flips the state
    # right after queueing, so the loop may exit without POSTing the queued
    # packets at all; the server then hears nothing and times the session out.
    expected = ("client namespace disconnect", "transport close")
    if transports == ["polling"]:
        expected += ("ping timeout",)
    assert server_side_reason(w, sid) in expected
    wait_until(lambda: sio.disconnect_reasons, what="the client disconnect handler")
    assert sio.disconnect_reasons == [sio.reason.CLIENT_DISCONNECT]


@TRANSPORTS
def test_server_disconnect(clients, transports):
    w = watcher(clients)
    sio = clients.connect(transports=transports)
    sid = sio.get_sid()
    sio.emit("disconnect-me")
    assert server_side_reason(w, sid) == "server namespace disconnect"
    wait_until(lambda: sio.disconnect_reasons, what="the client disconnect handler")
    assert sio.disconnect_reasons == [sio.reason.SERVER_DISCONNECT]
    wait_until(lambda: not sio.connected, what="the client to report disconnected")
    assert emit_ack(w, "message-with-ack", "watcher ok") == ["watcher ok"]
