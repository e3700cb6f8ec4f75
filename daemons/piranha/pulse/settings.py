"""What pulse takes from an lvs.cf: its role, heartbeat addresses and timing, and the VIPs it owns when active.

The role follows Piranha (§3.2): the node that has ``primary`` as one of its own (non-alias) addresses is the
master; one that has ``backup`` is the backup; a host with neither is refused with a clear message.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from piranha import lvscf
from piranha.net.addresses import AddressError, Vip
from piranha.pulse.heartbeat import read_key_file
from piranha.pulse.state import Role, Timing

_UNSET_ADDRESSES = (None, "", "0.0.0.0")


class SettingsError(Exception):
    """The configuration cannot run on this node; the message says why and names the keyword."""


@dataclass(frozen=True)
class PulseSettings:
    path: str
    serial_no: int | None
    mode: str                          # "lvs" | "fos"
    role: Role
    own_public: str
    own_private: str | None
    partner_public: str | None
    partner_private: str | None
    heartbeat_port: int
    timing: Timing
    key: bytes | None
    key_file: str | None
    vips: tuple[Vip, ...]
    active_cmd: tuple[str, ...]
    inactive_cmd: tuple[str, ...]
    monitor_links: bool
    syncdaemon: bool
    fos_services: tuple[str, ...] = ()     # the active failover blocks, to tell whether fos must restart
    checksum: str | None = None            # SHA-256 of the file as read (status: do both nodes run the same?)

    @property
    def partner_addresses(self) -> set[str]:
        return {a for a in (self.partner_public, self.partner_private) if a}


def load_config(path: str):
    """Parse and validate lvs.cf; raise SettingsError listing every problem (``LINE: message``)."""
    try:
        config = lvscf.load(path)
    except lvscf.LvsConfigError as exc:
        raise SettingsError("; ".join(f"{path}:{p}" for p in exc.errors)) from None
    except OSError as exc:
        raise SettingsError(f"cannot read {path}: {exc.strerror or exc}") from None
    problems = config.validate()
    if problems:
        raise SettingsError("; ".join(f"{path}:{p}" for p in problems))
    return config


def split_command(text: str | None) -> tuple[str, ...]:
    """Piranha split commands on spaces and exec'd them without a shell; so do we."""
    return tuple(text.split()) if text else ()


def _address(value) -> str | None:
    return None if value in _UNSET_ADDRESSES else str(value)


def role_of(config, own_addresses: set[str]) -> Role:
    primary, backup = _address(config.primary), _address(config.backup)
    if primary and primary in own_addresses:
        return Role.MASTER
    if backup and backup in own_addresses:
        return Role.BACKUP
    raise SettingsError(f"this host has neither primary = {primary} nor backup = {backup} as an address "
                        f"of its own, so it is not a director of this cluster")


def owned_vips(config) -> tuple[Vip, ...]:
    """The distinct addresses this node raises when active (active virtual servers or failover services)."""
    found: dict[str, Vip] = {}
    try:
        if config.service == "fos":
            for service in config.failover_services:
                if service.active and service.address not in found:
                    found[service.address] = Vip.from_config(service.address, service.device, service.vip_nmask)
        else:
            if config.network == "nat" and _address(config.nat_router) and config.nat_router_device:
                found[config.nat_router] = Vip.from_config(config.nat_router, config.nat_router_device,
                                                           config.nat_nmask)
            for vs in config.virtual_servers:
                if vs.active and vs.address and vs.address not in found:
                    found[vs.address] = Vip.from_config(vs.address, vs.device, vs.vip_nmask)
    except AddressError as exc:
        raise SettingsError(str(exc)) from None
    return tuple(found.values())


def file_checksum(path: str) -> str | None:
    """SHA-256 of the file's bytes, read right after it was parsed; None when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return None


def settings_from_config(path: str, config, own_addresses: set[str]) -> PulseSettings:
    role = role_of(config, own_addresses)
    primary, backup = _address(config.primary), _address(config.backup)
    primary_private, backup_private = _address(config.primary_private), _address(config.backup_private)
    backup_active = bool(config.backup_active) and backup is not None
    if role is Role.MASTER:
        own, own_private, partner, partner_private = primary, primary_private, backup, backup_private
    else:
        own, own_private, partner, partner_private = backup, backup_private, primary, primary_private
    if own_private == own:
        own_private = None
    if partner_private == partner:
        partner_private = None
    mode = "fos" if config.service == "fos" else "lvs"
    active_count = (sum(1 for s in config.failover_services if s.active) if mode == "fos"
                    else sum(1 for v in config.virtual_servers if v.active))
    if active_count == 0:
        raise SettingsError(f"no active {mode} services defined in {path}")
    key_file = getattr(config, "heartbeat_key_file", None)
    try:
        key = read_key_file(key_file) if key_file else None
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    return PulseSettings(
        path=path,
        serial_no=config.serial_no,
        mode=mode,
        role=role,
        own_public=own,
        own_private=own_private,
        partner_public=partner if backup_active else None,
        partner_private=partner_private if backup_active else None,
        heartbeat_port=int(config.heartbeat_port),
        timing=Timing(keepalive=float(config.keepalive), deadtime=float(config.deadtime),
                      backup_active=backup_active),
        key=key,
        key_file=key_file,
        vips=owned_vips(config),
        active_cmd=split_command(config.active_cmd),
        inactive_cmd=split_command(config.inactive_cmd),
        monitor_links=bool(config.monitor_links) and backup_active,
        syncdaemon=bool(config.syncdaemon),
        fos_services=tuple(repr(s) for s in config.failover_services if s.active) if mode == "fos" else (),
        checksum=file_checksum(path),
    )
