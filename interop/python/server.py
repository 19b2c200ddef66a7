"""python-socketio's server for the Go client's interop suite
(client/interop_python_test.go): the behaviours of
interop/node-server/server.mjs, but connection state recovery, which
python-socketio 5.7 does not have. Usage: python3 server.py PORT
It prints "listening PORT" once ready.

It runs on eventlet: with aiohttp, python-engineio 4.3 reads a long-polling
POST body with one read of the request's stream, which returns what has
arrived so far, so that a body in more than one TCP segment loses its end.
"""
import sys

import eventlet

eventlet.monkey_patch()

import socketio  # noqa: E402  (after monkey patching)
from engineio.payload import Payload  # noqa: E402

# python-engineio drops, silently (200 OK), a long-polling POST of more than
# 16 packets; socket.io clients, the official one as ours, send all they
# have buffered in one POST. Raised as python-socketio's docs advise.
Payload.max_decode_packets = 10000

sio = socketio.Server(
    async_mode="eventlet",
    ping_interval=1,
    ping_timeout=2,
    max_http_buffer_size=1_000_000,
)
app = socketio.WSGIApp(sio)

logs = {}
seen = {}


def whoami(sid, namespace):
    session = sio.get_session(sid, namespace=namespace)
    eio_sid = sio.manager.eio_sid_from_sid(sid, namespace)
    return {
        "auth": session.get("auth"),
        "sid": eio_sid,
        "transport": sio.eio.transport(eio_sid),
        "nsp": namespace,
    }


def remember_auth(sid, auth, namespace):
    sio.save_session(sid, {"auth": auth if auth is not None else {}}, namespace=namespace)


@sio.on("connect")
def connect(sid, environ, auth):
    remember_auth(sid, auth, "/")


@sio.on("whoami")
def on_whoami(sid):
    return whoami(sid, "/")


@sio.on("echo")
def echo(sid, *args):
    return args


@sio.on("echo-event")
def echo_event(sid, *args):
    sio.emit("echo-event", args, to=sid)


@sio.on("ask")
def on_ask(sid, arg):
    try:
        return {"ok": sio.call("question", arg, to=sid, timeout=2)}
    except socketio.exceptions.TimeoutError:
        return {"err": "operation has timed out"}


@sio.on("noack")
def noack(sid, *args):
    # No acknowledgement: python-socketio acknowledges whatever a handler
    # returns (None included), but this.
    return sio.not_handled


@sio.on("log")
def log(sid, key, v):
    logs.setdefault(key, []).append(v)


@sio.on("getlog")
def getlog(sid, key):
    return logs.get(key, [])


@sio.on("retry")
def retry(sid, key, n):
    logs.setdefault(key, []).append(n)
    k = key + ":" + str(n)
    seen[k] = seen.get(k, 0) + 1
    if seen[k] == 1 and n % 2 == 0:
        return sio.not_handled  # the first ack of even numbers is dropped
    return n


@sio.on("many")
def many(sid, n):
    for i in range(n):
        sio.emit("seq", i, to=sid)


@sio.on("cut")
def cut(sid, key):
    sio.eio.disconnect(sio.manager.eio_sid_from_sid(sid, "/"))

    def later():
        eventlet.sleep(0.05)
        sio.emit("missed", (key, 1))
        sio.emit("missed", (key, 2))

    sio.start_background_task(later)


@sio.on("disconnect-me")
def disconnect_me(sid):
    sio.disconnect(sid)


@sio.on("connect", namespace="/admin")
def admin_connect(sid, environ, auth):
    if not (isinstance(auth, dict) and auth.get("token") == "secret"):
        raise socketio.exceptions.ConnectionRefusedError("not authorized", {"code": 42, "hint": "send a token"})
    remember_auth(sid, auth, "/admin")


@sio.on("whoami", namespace="/admin")
def admin_whoami(sid):
    return whoami(sid, "/admin")


@sio.on("connect", namespace="/other")
def other_connect(sid, environ, auth):
    remember_auth(sid, auth, "/other")


@sio.on("whoami", namespace="/other")
def other_whoami(sid):
    return whoami(sid, "/other")


listener = eventlet.listen(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0))
print("listening", listener.getsockname()[1], flush=True)
eventlet.wsgi.server(listener, app, log_output=False)
