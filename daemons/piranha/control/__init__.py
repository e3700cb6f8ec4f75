"""Control sockets: one JSON request per line, one JSON reply per line, over a Unix stream socket.

    >>> from piranha.control.client import ControlClient
    >>> ControlClient("/run/piranha/pulse.sock").call("status")      # doctest: +SKIP
    {'role': 'master', 'active': True, ...}
"""

DEFAULT_PULSE_SOCKET = "/run/piranha/pulse.sock"
DEFAULT_LVSD_SOCKET = "/run/piranha/lvsd.sock"
