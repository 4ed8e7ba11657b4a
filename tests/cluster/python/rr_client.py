"""One python-socketio client of scenario d (round-robin proxy without stickiness).

Run by d-round-robin.test.mjs (which drives a socket.io-client on the other side):

    python rr_client.py URL --transports polling|upgrade --join ROOM --send-to ROOM
                        --token TOKEN [--stay SECONDS]

Steps, each bounded:
  1. connect to URL (polling only, or polling then upgrade to websocket);
  2. message-with-ack: the ack carries the arguments back;
  3. message: message-back carries them back;
  4. join ROOM (ack "joined"), then print {"ready": ..., "sid": <engine.io sid>};
  5. wait for a line "go" on stdin (the JS client has joined SEND_TO), then
     to-room SEND_TO "from-py" TOKEN;
  6. wait for room-message "from-js" TOKEN (sent by the JS client to ROOM);
  7. with --transports upgrade: wait until the transport is websocket;
  8. stay connected until STAY seconds after the connection (heartbeats every
     300 ms meanwhile), then require: no disconnect, same sid, and one more
     message-with-ack answered.
Prints one JSON line per step on stdout; the last one is {"result": "ok"} or
{"result": "fail", "error": ...}. Exit status 0 on success, 1 on failure.
"""
import argparse
import json
import sys
import threading
import time

import socketio

EVENT_TIMEOUT = 5.0


def read_line(timeout):
    """One line of stdin (stripped), or None after `timeout` seconds or at EOF."""
    box = []
    reader = threading.Thread(target=lambda: box.append(sys.stdin.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return box[0].strip() if box and box[0] else None


def say(**fields):
    print(json.dumps(fields), flush=True)


class Failure(Exception):
    pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--transports", choices=["polling", "upgrade"], required=True)
    ap.add_argument("--join", required=True)
    ap.add_argument("--send-to", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--stay", type=float, default=3.0)
    a = ap.parse_args()

    sio = socketio.Client(reconnection=False, request_timeout=EVENT_TIMEOUT)
    cond = threading.Condition()
    inbox = []  # (event, args)
    disconnects = []

    def record(name):
        def handler(*args):
            with cond:
                inbox.append((name, list(args)))
                cond.notify_all()

        sio.on(name, handler)

    for name in ("message-back", "room-message"):
        record(name)

    @sio.event
    def disconnect(reason=None):
        with cond:
            disconnects.append(str(reason))
            cond.notify_all()

    def wait_event(name, args, timeout=EVENT_TIMEOUT):
        deadline = time.monotonic() + timeout
        with cond:
            while True:
                for i, (n, got) in enumerate(inbox):
                    if n == name and got == args:
                        del inbox[i]
                        return
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure(f'no "{name}" {args} within {timeout} s; got {inbox}, disconnects {disconnects}')
                cond.wait(left)

    def call(event, *args):
        try:
            return sio.call(event, args, timeout=EVENT_TIMEOUT)
        except socketio.exceptions.TimeoutError:
            raise Failure(f'no ack for "{event}" within {EVENT_TIMEOUT} s (disconnects {disconnects})')

    try:
        transports = ["polling"] if a.transports == "polling" else None  # None: polling, then upgrade
        try:
            sio.connect(a.url, transports=transports, wait_timeout=EVENT_TIMEOUT)
        except socketio.exceptions.ConnectionError as e:
            raise Failure(f"connect failed: {e}")
        t0 = time.monotonic()
        eio_sid = sio.eio.sid
        say(step="connected", sid=eio_sid, transport=sio.transport())

        reply = call("message-with-ack", "py", 1, {"k": [1, 2]})
        if reply != ("py", 1, {"k": [1, 2]}):
            raise Failure(f"message-with-ack answered {reply!r}")
        sio.emit("message", ("echo", a.token))
        wait_event("message-back", ["echo", a.token])
        if call("join", a.join) != "joined":
            raise Failure("join was not acknowledged with 'joined'")
        say(step="ready", ready=True, sid=eio_sid)

        go = read_line(2 * EVENT_TIMEOUT)
        if go != "go":
            raise Failure(f'expected "go" on stdin, got {go!r}')
        sio.emit("to-room", (a.send_to, "from-py", a.token))
        wait_event("room-message", ["from-js", a.token])
        say(step="got room-message from the JS client")

        if a.transports == "upgrade":
            deadline = time.monotonic() + EVENT_TIMEOUT
            while sio.transport() != "websocket":
                if time.monotonic() > deadline:
                    raise Failure(f"not upgraded to websocket within {EVENT_TIMEOUT} s (transport {sio.transport()})")
                time.sleep(0.02)
            say(step="upgraded", transport="websocket")

        # the test is about time here: stay connected across several heartbeats
        left = t0 + a.stay - time.monotonic()
        if left > 0:
            time.sleep(left)
        if disconnects or not sio.connected:
            raise Failure(f"disconnected while staying: {disconnects}")
        if sio.eio.sid != eio_sid:
            raise Failure(f"engine.io sid changed from {eio_sid} to {sio.eio.sid}")
        if call("message-with-ack", "still", "here") != ("still", "here"):
            raise Failure("the last message-with-ack was not answered with its arguments")
        say(result="ok", sid=eio_sid, transport=sio.transport(), stayed=round(time.monotonic() - t0, 2))
        return 0
    except Failure as e:
        say(result="fail", error=str(e))
        return 1
    except Exception as e:  # anything unexpected is a failure too, with its type
        say(result="fail", error=f"{type(e).__name__}: {e}")
        return 1
    finally:
        try:
            sio.disconnect()
        except Exception:
            pass


if __name__ == "__main__":
    sys.exit(main())
