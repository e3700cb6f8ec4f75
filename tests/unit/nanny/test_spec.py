"""The lvsd <-> nanny check spec: round trip and the errors a bad spec gets."""

import json

import pytest

from piranha.nanny.spec import CheckSpec, plan_line


def test_round_trip_and_plan_line():
    spec = CheckSpec(id="web/rs1", address="2001:db8::5", port=443, send="HEAD / HTTP/1.0\\r\\n\\r\\n",
                     expect="HTTP", interval=6, reentry=15, failures=2, weight=3)
    assert CheckSpec.from_json(json.loads(json.dumps(spec.to_json()))) == spec
    assert json.loads(plan_line([spec])) == {"op": "plan", "checks": [spec.to_json()]}


def test_probe_key_ignores_what_does_not_change_the_probe():
    a = CheckSpec(id="a", address="10.0.0.5", port=80, weight=1, failures=1, reentry=10)
    b = CheckSpec(id="b", address="10.0.0.5", port=80, weight=5, failures=3, reentry=60)
    assert a.probe_key() == b.probe_key()
    assert a.probe_key() != CheckSpec(id="a", address="10.0.0.5", port=80, expect="x").probe_key()


@pytest.mark.parametrize("changes, message", [
    ({"id": ""}, "check id must be a non-empty string"),
    ({"address": "www.example.com"}, "address 'www.example.com' is not an IPv4 or IPv6 address"),
    ({"port": 0}, "port 0 is not in 1-65535"),
    ({"port": "80"}, "port '80' is not in 1-65535"),
    ({"protocol": "sctp"}, "protocol 'sctp' is not one of tcp, udp"),
    ({"timeout": 0}, "timeout 0 must be a positive number of seconds"),
    ({"interval": -1}, "interval -1 must be a positive number of seconds"),
    ({"reentry": -5}, "reentry -5 must be zero or more seconds"),
    ({"failures": 0}, "failures 0 must be an integer of at least 1"),
    ({"weight": -1}, "weight -1 must be an integer of at least 0"),
    ({"load_monitor": "snmp"}, "load_monitor 'snmp' is not one of none, uptime, rup, ruptime"),
    ({"send_program": "  "}, "send_program is empty"),
    ({"send": 5}, "send 5 must be a string or null"),
    ({"rsh_command": None}, "rsh_command None must be a string"),
    ({"use_regex": "yes"}, "use_regex 'yes' must be true or false"),
])
def test_bad_specs_are_refused_with_the_field_and_value(changes, message):
    with pytest.raises(ValueError) as err:
        CheckSpec(**{"id": "vs/rs", "address": "10.0.0.5", "port": 80, **changes})
    assert message in str(err.value)


def test_unknown_fields_are_refused():
    with pytest.raises(ValueError, match="unknown check fields: colour, size"):
        CheckSpec.from_json({"id": "a", "address": "10.0.0.5", "port": 80, "size": 1, "colour": "red"})
