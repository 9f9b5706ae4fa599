#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""pynvim's msgpack-RPC session, unmodified, against leasepoold.

Usage: session.py SOCKET.  socket_session() sends the notification
nvim_set_client_info on connect, as for Neovim; the daemon ignores it.
Neovim's errors are [type, message] pairs: hello asks for errors as
arrays, and the error wrapper is the one pynvim's Nvim class installs.
Prints one line per step, for tests/integration/test_interop.c.
"""
import sys

from pynvim.api.common import NvimError, decode_if_bytes
from pynvim.msgpack_rpc import socket_session


def main(socket):
    session = socket_session(socket)
    session.error_wrapper = lambda e: NvimError(decode_if_bytes(e[1]))
    hello = session.request("hello", {"client": "pynvim", "errors": "array"})
    print("hello:", hello["server"].split()[0])
    print("ping:", session.request("ping"))
    lease = session.request("acquire", {"owner": "pynvim"})["lease"]
    print("acquire: ok" if lease > 0 else "acquire: no lease")
    print("run:", session.request("run", {"lease": lease, "fn": "echo", "args": [42]}))
    try:
        session.request("run", {"lease": lease, "fn": "no_such_function"})
        print("error: none")
    except NvimError as e:
        print("error:", e)
    print("release:", session.request("release", {"lease": lease}))
    session.close()


main(sys.argv[1])
