"""Forms of the VIRTUAL SERVERS panels: schema keyword fields plus the block name."""

from piranha_web.keyword_forms import NamedForm, keyword_form


VIRTUAL_FIELDSETS = [
    ("Virtual server", ["name", "active", "address", "device", "vip_nmask", "port", "protocol"]),
    ("Scheduling and persistence", ["scheduler", "persistent", "pmask", "fwmark", "sorry_server"]),
    ("Health checks", ["timeout", "check_interval", "failures", "reentry", "quiesce_server", "load_monitor"]),
]
VIRTUAL_ATTRS = [a for _, attrs in VIRTUAL_FIELDSETS for a in attrs if a != "name"]
VirtualForm = keyword_form("virtual", VIRTUAL_ATTRS, base=NamedForm)

NEW_VIRTUAL_ATTRS = ["address", "device", "port", "protocol"]
NewVirtualForm = keyword_form("virtual", NEW_VIRTUAL_ATTRS, base=NamedForm)

SCRIPT_ATTRS = ["send_program", "send", "expect", "use_regex"]
ScriptsForm = keyword_form("virtual", SCRIPT_ATTRS)

REAL_FIELDSETS = [("Real server", ["name", "active", "address", "port", "weight"])]
REAL_ATTRS = ["active", "address", "port", "weight"]
RealForm = keyword_form("server", REAL_ATTRS, base=NamedForm)
