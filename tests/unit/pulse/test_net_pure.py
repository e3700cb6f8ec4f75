"""The pure parts of the net wrappers pulse uses: ARP frame layout and VIP arithmetic."""

import pytest

from piranha.net.addresses import AddressError, Vip
from piranha.net.arp import arp_frame, parse_mac
from piranha.net.send_arp_cli import main as send_arp_main


def test_arp_frame_is_a_padded_gratuitous_request():
    frame = arp_frame("10.213.0.100", "02:00:00:00:00:01")
    assert len(frame) == 60
    assert frame[0:6] == b"\xff" * 6                               # broadcast
    assert frame[6:12] == bytes.fromhex("020000000001")              # our MAC
    assert frame[12:14] == b"\x08\x06"
    assert frame[14:22] == bytes.fromhex("0001080006040001")        # Ethernet/IPv4, opcode 1 (request)
    assert frame[22:28] == frame[32:38] == bytes.fromhex("020000000001")
    assert frame[28:32] == frame[38:42] == bytes([10, 213, 0, 100])   # sender IP = target IP = VIP
    assert frame[42:] == b"\0" * 18


def test_arp_frame_to_a_given_destination_and_macs_without_colons():
    frame = arp_frame("10.213.0.100", "020000000001", dst_mac="0200000000ff")
    assert frame[0:6] == bytes.fromhex("0200000000ff")


@pytest.mark.parametrize("bad", ["02:00:00:00:00", "zz0000000001", ""])
def test_bad_mac_is_refused_quoting_it(bad):
    with pytest.raises(ValueError, match="is not a MAC address"):
        parse_mac(bad)


def test_send_arp_cli_refuses_bad_arguments(capsys):
    assert send_arp_main(["-i", "lo", "10.0.0.300", "020000000001", "10.0.0.1", "ffffffffffff"]) == 2
    assert "'10.0.0.300' is not an IPv4 address" in capsys.readouterr().err
    assert send_arp_main(["-i", "lo", "10.0.0.3", "0200000001", "10.0.0.1", "ffffffffffff"]) == 2


@pytest.mark.parametrize("netmask,prefixlen,broadcast", [
    (None, 32, None), ("0.0.0.0", 32, None), ("255.255.255.0", 24, "10.213.0.255"),
    ("255.255.254.0", 23, "10.213.1.255"), ("255.255.255.254", 31, None),
])
def test_vip_netmask_and_broadcast(netmask, prefixlen, broadcast):
    vip = Vip.from_config("10.213.0.100", "eth0:1", netmask)
    assert (vip.prefixlen, vip.broadcast) == (prefixlen, broadcast)
    assert (vip.base_device, vip.label) == ("eth0", "eth0:1")


def test_plain_device_has_no_label_and_ipv6_gets_128():
    vip = Vip.from_config("fd00::10", "eth1", None)
    assert (vip.base_device, vip.label, vip.prefixlen, vip.broadcast) == ("eth1", None, 128, None)


def test_vip_without_device_is_refused():
    with pytest.raises(AddressError, match="10.213.0.100 has no device"):
        Vip.from_config("10.213.0.100", None, None)


def test_unsolicited_neighbour_advertisement_layout():
    from piranha.net.arp import na_message
    message = na_message("fd00:213::100", "02:00:00:00:00:01")
    assert message[0:2] == bytes([136, 0])                              # neighbour advertisement
    assert message[4:8] == bytes.fromhex("20000000")                    # Override, not Solicited, not Router
    assert message[8:24] == bytes.fromhex("fd000213000000000000000000000100")
    assert message[24:] == bytes([2, 1]) + bytes.fromhex("020000000001")  # target link-layer address option
