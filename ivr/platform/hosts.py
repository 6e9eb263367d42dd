"""Whether a host is this machine: where plain http or SMTP is acceptable, and nowhere else."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """Return True for ``localhost`` and any loopback address (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
