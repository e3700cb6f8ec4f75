"""Piranha director daemons and the lvs.cf format library."""

__version__ = "1.0.0.dev0"
