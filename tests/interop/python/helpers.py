"""Shared helpers for the Python interop suite (python-socketio client).

The server under test is given by the SERVER_URL environment variable
(set by tests/interop/run.sh).
"""
import os
import threading
import time

import pytest
import socketio

SERVER_URL = os.environ.get("SERVER_URL", "http://127.0.0.1:3301").rstrip("/")
#: bound for waiting on one expected event / ack / connection
EVENT_TIMEOUT = 5.0
#: how long we listen to assert that an event does NOT arrive
ABSENCE_WINDOW = 0.3


class Inbox:
    """Thread-safe record of the events a client received.

    python-socketio runs every handler in its own thread, so waits go
    through a condition variable, always with a timeout.
    """

    def __init__(self):
        self._cond = threading.Condition()
        self._events = []  # (namespace, name, args)

    def listen(self, sio, name, namespace="/"):
        def handler(*args):
            with self._cond:
                self._events.append((namespace, name, args))
                self._cond.notify_all()

        sio.on(name, handler, namespace=namespace)

    def wait(self, name, namespace="/", timeout=EVENT_TIMEOUT, where=None):
        """Pop and return the args of the first matching event; fail on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i, (ns, n, args) in enumerate(self._events):
                    if ns == namespace and n == name and (where is None or where(*args)):
                        del self._events[i]
                        return args
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail(f'timed out after {timeout} s waiting for "{name}" on {namespace}')
                self._cond.wait(left)

    def received(self, name, namespace="/"):
        with self._cond:
            return [a for ns, n, a in self._events if ns == namespace and n == name]


class Clients:
    """Factory for connected clients; everything it made is disconnected at teardown."""

    def __init__(self):
        self._made = []

    def new(self, listen=(), namespaces=("/",), **client_options):
        """A not-yet-connected socketio.Client with an Inbox listening to `listen`
        on each namespace, plus a recorded "disconnect" reason."""
        options = {"reconnection": False, "request_timeout": EVENT_TIMEOUT, **client_options}
        sio = socketio.Client(**options)
        sio.inbox = Inbox()
        for ns in namespaces:
            for name in listen:
                sio.inbox.listen(sio, name, namespace=ns)
        sio.disconnect_reasons = []

        @sio.event
        def disconnect(reason):
            sio.disconnect_reasons.append(reason)

        self._made.append(sio)
        return sio

    def connect(self, transports=None, namespaces=None, auth=None, listen=("auth", "message-back"), **client_options):
        nss = list(namespaces or ["/"])
        sio = self.new(listen=listen, namespaces=nss, **client_options)
        sio.connect(SERVER_URL, transports=transports, namespaces=nss, auth=auth, wait_timeout=EVENT_TIMEOUT)
        return sio

    def close_all(self):
        for sio in self._made:
            try:
                sio.disconnect()
            except Exception:  # already gone
                pass


@pytest.fixture
def clients():
    c = Clients()
    yield c
    c.close_all()


def emit_ack(sio, event, *args, namespace="/", timeout=EVENT_TIMEOUT):
    """Emit with an ack callback; return the full list of ack arguments."""
    done = threading.Event()
    reply = []

    def callback(*a):
        reply.extend(a)
        done.set()

    sio.emit(event, args, namespace=namespace, callback=callback)
    if not done.wait(timeout):
        pytest.fail(f'no ack for "{event}" within {timeout} s')
    return reply


def echo(sio, *args, namespace="/"):
    """Emit "message" and return the args of the next "message-back"."""
    sio.emit("message", args, namespace=namespace)
    return list(sio.inbox.wait("message-back", namespace=namespace))


def wait_until(predicate, timeout=EVENT_TIMEOUT, what="condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)
