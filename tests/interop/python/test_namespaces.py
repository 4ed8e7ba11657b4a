"""Namespaces, auth payload and unknown namespaces."""
import pytest
import socketio

from helpers import SERVER_URL, echo


def test_root_and_custom_multiplexed(clients):
    sio = clients.connect(namespaces=["/", "/custom"], auth={"token": "abc"})
    assert sio.inbox.wait("auth", namespace="/") == ({"token": "abc"},)
    assert sio.inbox.wait("auth", namespace="/custom") == ({"token": "abc"},)
    # two namespace sessions over a single Engine.IO connection
    assert sio.get_sid("/") and sio.get_sid("/custom")
    assert sio.get_sid("/") != sio.get_sid("/custom")
    assert set(sio.namespaces) == {"/", "/custom"}
    assert echo(sio, "multiplexed") == ["multiplexed"]


@pytest.mark.parametrize("namespace", ["/", "/custom"])
@pytest.mark.parametrize("transports", [["websocket"], ["polling"]], ids=["websocket", "polling"])
def test_auth_is_echoed(clients, namespace, transports):
    sio = clients.connect(transports=transports, namespaces=[namespace], auth={"token": "abc"})
    assert sio.inbox.wait("auth", namespace=namespace) == ({"token": "abc"},)


def test_no_auth_gives_empty_object(clients):
    sio = clients.connect()
    assert sio.inbox.wait("auth") == ({},)


@pytest.mark.parametrize("transports", [["websocket"], ["polling"]], ids=["websocket", "polling"])
def test_unknown_namespace_is_rejected(clients, transports):
    sio = clients.new()
    errors = []
    sio.on("connect_error", lambda data=None: errors.append(data), namespace="/nope")
    with pytest.raises(socketio.exceptions.ConnectionError) as excinfo:
        sio.connect(SERVER_URL, transports=transports, namespaces=["/nope"], wait_timeout=5)
    assert "/nope" in str(excinfo.value)
    assert errors == [{"message": "Invalid namespace"}]
    assert not sio.connected
