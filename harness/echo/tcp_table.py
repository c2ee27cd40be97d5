"""The kernel's table of IPv4 TCP sockets, asked through Linux's sock_diag netlink interface.

One request asks for the sockets in some states (``ss`` asks the same way); the kernel
answers with binary records. ``/proc/net/tcp`` holds the same facts as text, but the
kernel formats a line for every socket of the machine, the thousands of TIME_WAIT ones a
suite of echo tests leaves behind included: measured with about 2,500 of them, one read
took 10 ms, where this answer for the listening sockets alone takes well under one.

:func:`sockets` returns None where the interface is missing (not Linux); callers then ask
psutil, process by process.
"""

from __future__ import annotations

import socket
import struct
from typing import NamedTuple, Optional

#: TCP states (include/net/tcp_states.h), and the bit of each in a request's state mask.
ESTABLISHED = 1
LISTEN = 10

_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST = 0x1
_NLM_F_DUMP = 0x300
_NLMSG_ERROR = 2
_NLMSG_DONE = 3

#: struct nlmsghdr: length, type, flags, sequence number, port id.
_HEADER = struct.Struct("=IHHII")
#: struct inet_diag_req_v2: family, protocol, extensions, pad, state mask, then the socket
#: id (ports and addresses in network byte order, interface, cookie): left empty, a dump
#: of the states asked for answers every socket in them.
_REQUEST = struct.Struct("=BBBBI2s2s16s16sI8s")
#: struct inet_diag_msg: family, state, timer, retransmits, the socket id, then expires,
#: receive queue (a listening socket: connections waiting to be accepted), send queue,
#: uid, inode.
_RECORD = struct.Struct("=BBBB2s2s16s16sI8sIIIII")

#: How long an answer may take before the question counts as unanswerable.
_TIMEOUT = 2.0


class Socket(NamedTuple):
    """One IPv4 TCP socket."""

    state: int
    local_address: str
    local_port: int
    remote_port: int
    queue: int
    """Of a listening socket: the connections waiting in its accept queue."""
    inode: int
    """What ``/proc/PID/fd`` links of the processes holding it show (``socket:[inode]``)."""


def _record(data: bytes, offset: int) -> Socket:
    (_family, state, _timer, _retrans, sport, dport, src, _dst, _if, _cookie,
     _expires, rqueue, _wqueue, _uid, inode) = _RECORD.unpack_from(data, offset)
    return Socket(state, socket.inet_ntoa(src[:4]), int.from_bytes(sport, "big"),
                  int.from_bytes(dport, "big"), rqueue, inode)


def sockets(*states: int) -> Optional[list[Socket]]:
    """Every IPv4 TCP socket of this network namespace in one of ``states``; None when the
    kernel cannot be asked (no netlink sock_diag, an error or no answer in time)."""
    mask = sum(1 << state for state in states)
    request = _REQUEST.pack(socket.AF_INET, socket.IPPROTO_TCP, 0, 0, mask, bytes(2),
                            bytes(2), bytes(16), bytes(16), 0, bytes(8))
    header = _HEADER.pack(_HEADER.size + len(request), _SOCK_DIAG_BY_FAMILY,
                          _NLM_F_REQUEST | _NLM_F_DUMP, 1, 0)
    try:
        nl = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, _NETLINK_SOCK_DIAG)
    except (AttributeError, OSError):  # not Linux, or netlink refused
        return None
    found: list[Socket] = []
    with nl:
        try:
            nl.settimeout(_TIMEOUT)
            nl.sendto(header + request, (0, 0))
            while True:
                data = nl.recv(1 << 16)
                offset = 0
                while offset + _HEADER.size <= len(data):
                    length, kind = _HEADER.unpack_from(data, offset)[:2]
                    if kind == _NLMSG_DONE:
                        return found
                    if kind == _NLMSG_ERROR or length < _HEADER.size + _RECORD.size:
                        return None
                    found.append(_record(data, offset + _HEADER.size))
                    offset += (length + 3) & ~3
                if not data:
                    return None
        except OSError:  # socket.timeout included
            return None
