"""A JSON-RPC connection over a Unix socket, for the test drivers: to
ovsdb-server, to iovpd's or ovs-vswitchd's control socket."""

import json
import socket


class Closed(RuntimeError):
    """The peer closed the connection."""


class ErrorReply(RuntimeError):
    """A request answered with an error."""


class JsonRpc:
    """A JSON-RPC connection over the Unix socket 'path'."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = ""
        self.id = 0
        self.decoder = json.JSONDecoder()

    def call(self, method, params):
        """Sends request 'method' with 'params' (a list) and returns its
        result; answers the peer's echo requests meanwhile."""
        self.id += 1
        self.sock.sendall(json.dumps({"method": method, "params": params,
                                      "id": self.id}).encode())
        while True:
            text = self.buf.lstrip()
            try:
                msg, end = self.decoder.raw_decode(text)
            except ValueError:
                data = self.sock.recv(1 << 20)
                if not data:
                    raise Closed("%s: connection closed" % method)
                self.buf += data.decode()
                continue
            self.buf = text[end:]
            if msg.get("method") == "echo":
                self.sock.sendall(json.dumps({"result": msg["params"],
                                              "id": msg["id"]}).encode())
                continue
            if msg.get("id") == self.id:
                if msg.get("error"):
                    raise ErrorReply("%s: %s" % (method, msg["error"]))
                return msg["result"]
