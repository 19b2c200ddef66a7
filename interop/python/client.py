"""The python-socketio client side of the Go interop tests.

Run by interop_python_test.go: python3 client.py URL MODE, where MODE is
polling, websocket or upgrade. It plays one scripted session against the
test's server and prints what it sees, one JSON object per line; binary
values are printed as {"$bin": "<base64>"}.
"""
import base64
import json
import sys
import threading

import socketio

url, mode = sys.argv[1], sys.argv[2]
transports = {"polling": ["polling"], "websocket": ["websocket"], "upgrade": None}[mode]
WAIT = 10


def plain(v):
    if isinstance(v, (bytes, bytearray)):
        return {"$bin": base64.b64encode(bytes(v)).decode()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    return v


def report(event, data=None):
    print(json.dumps({"event": event, "data": plain(data)}), flush=True)


class Waiter:
    """Values handed from the client's threads to the script, in order."""

    def __init__(self):
        self.cond = threading.Condition()
        self.items = {}

    def put(self, key, value):
        with self.cond:
            self.items.setdefault(key, []).append(value)
            self.cond.notify_all()

    def get(self, key):
        with self.cond:
            if not self.cond.wait_for(lambda: self.items.get(key), WAIT):
                raise TimeoutError("no " + key)
            return self.items[key].pop(0)


got = Waiter()
sio = socketio.Client(reconnection=False)
kw = {} if transports is None else {"transports": transports}


@sio.on("auth", namespace="/custom")
def on_auth(data):
    got.put("auth", data)


@sio.on("echo-back", namespace="/custom")
def on_echo_back(*args):
    got.put("echo-back", list(args))


@sio.on("ask", namespace="/custom")
def on_ask(question):
    got.put("ask", question)
    return "answer to " + question, b"\x03\x04"


@sio.on("room-msg", namespace="/custom")
def on_room_msg(*args):
    got.put("room-msg", list(args))


@sio.on("disconnect", namespace="/custom")
def on_disconnect():
    got.put("disconnect", True)


@sio.on("welcome")
def on_welcome(msg):
    got.put("welcome", msg)


try:
    sio.connect(url, namespaces=["/", "/custom"], auth={"token": "py"}, wait_timeout=WAIT, **kw)
    report("connected", {"transport": sio.transport()})
    report("welcome", got.get("welcome"))
    report("auth", got.get("auth"))

    sio.emit("echo", (1, "two", {"three": [3.5, None, True]}, b"\x00\x01\xff", "é✓"), namespace="/custom")
    report("echo-back", got.get("echo-back"))

    ack = sio.call("ack", ("a", b"\x02"), namespace="/custom", timeout=WAIT)
    report("ack", list(ack) if isinstance(ack, tuple) else [ack])

    sio.emit("ask-me", "q1", namespace="/custom")
    report("ask", got.get("ask"))
    report("asked", sio.call("answered", namespace="/custom", timeout=WAIT))

    sio.emit("join", "room1", namespace="/custom")
    report("room-msg", got.get("room-msg"))

    sio.emit("bye", namespace="/custom")
    report("disconnect", got.get("disconnect"))
    report("transport", {"transport": sio.transport()})
    sio.disconnect()

    refused = socketio.Client(reconnection=False)

    @refused.on("connect_error", namespace="/private")
    def on_connect_error(data):
        got.put("connect_error", data)

    try:
        # It waits wait_timeout for the namespace before it gives up.
        refused.connect(url, namespaces=["/private"], auth={"token": "wrong"}, wait_timeout=1, **kw)
        report("private", "connected")
        refused.disconnect()
    except socketio.exceptions.ConnectionError as e:
        report("private", str(e))
    report("connect_error", got.get("connect_error"))
    report("done")
except Exception as e:  # reported, so that the test shows it
    report("error", repr(e))
    try:
        sio.disconnect()
    except Exception:
        pass
    sys.exit(1)
