"""Forms built from the keyword schema, and the one helper that puts a model's Problems beside the fields.

Forms stay thin: a field's label is ours, but its help text, choices and validator come from the
`piranha.lvscf.schema` Keyword (its converter parses the text and its ValueError message is the field error).
A route then writes the converted values into the model (`fill_model`), calls `config.validate()`, and shows
what is left with `attach_problems`. No keyword rule is written here.

    GlobalForm = keyword_form("global", ["primary", "network"])
    form = GlobalForm(data=model_data(config, "global", ["primary", "network"]))
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from piranha.lvscf import schema
from piranha.lvscf.converters import Boolean, HostDevice, Interface, Name

# A form-input limit (request hygiene, not a keyword rule): no lvs.cf value needs more.
MAX_INPUT_LENGTH = 1024

LABELS = {
    "primary": "Primary server public IP",
    "primary_private": "Primary server private IP (may be blank)",
    "backup": "Redundant server public IP",
    "backup_private": "Redundant server private IP",
    "backup_active": "Backup director enabled",
    "service": "Service",
    "network": "Network type",
    "nat_router": "NAT router IP",
    "nat_router_device": "NAT router device",
    "nat_nmask": "NAT router netmask",
    "tcp_timeout": "TCP timeout (seconds)",
    "tcpfin_timeout": "TCP FIN timeout (seconds)",
    "udp_timeout": "UDP timeout (seconds)",
    "rsh_command": "Remote shell for load monitoring",
    "active_cmd": "Command when becoming active",
    "inactive_cmd": "Command when becoming inactive",
    "hard_shutdown": "Stop load balancing if health checking fails",
    "keepalive": "Heartbeat interval (seconds)",
    "deadtime": "Assume dead after (seconds)",
    "heartbeat_port": "Heartbeat runs on port",
    "monitor_links": "Monitor NIC links for failures",
    "syncdaemon": "Use sync daemon",
    "syncd_iface": "Sync daemon interface",
    "syncd_id": "Sync daemon ID",
    "heartbeat_key_file": "Heartbeat key file",
    "name": "Name",
    "active": "Active",
    "address": "Virtual IP address",
    "device": "Device",
    "vip_nmask": "Virtual IP network mask",
    "sorry_server": "Sorry server",
    "fwmark": "Firewall mark",
    "port": "Application port",
    "protocol": "Protocol",
    "scheduler": "Scheduling",
    "persistent": "Persistence (seconds)",
    "pmask": "Persistence network mask",
    "load_monitor": "Load monitoring tool",
    "timeout": "Service timeout (seconds)",
    "reentry": "Re-entry time (seconds)",
    "quiesce_server": "Quiesce server",
    "check_interval": "Check interval (seconds)",
    "failures": "Failures before removal",
    "send": "Send",
    "expect": "Expect",
    "use_regex": "Treat expect string as a regular expression",
    "send_program": "Sending program",
    "start_cmd": "Start command",
    "stop_cmd": "Stop command",
    "weight": "Weight",
}
BLOCK_LABELS = {("server", "address"): "Address", ("server", "port"): "Port",
                ("failover", "address"): "Virtual IP address"}
DEVICE_HELP = "Interface that carries the address, usually an alias such as eth0:1."


def attribute_keywords(block: str) -> dict[str, schema.Keyword]:
    """Model attribute -> the keyword that fills it (both halves of an `IP DEVICE` keyword)."""
    mapping = {}
    for kw in schema.keywords(block):
        for attr in kw.attrs:
            mapping[attr] = kw
    return mapping


def _parser(kw: schema.Keyword, attr: str):
    """The text -> value function for one attribute (an `IP DEVICE` keyword has one per half)."""
    if isinstance(kw.type, HostDevice):
        return kw.type.host.parse if attr == kw.attrs[0] else Interface().parse
    return kw.convert


class KeywordValue:
    """WTForms validator: the keyword's converter parses the text into `field.value` (empty = unset)."""

    def __init__(self, parse):
        self.parse = parse

    def __call__(self, form, field):
        text = field.data
        if text is None or text == "":
            field.value = None
            return
        try:
            field.value = self.parse(text)
        except ValueError as error:
            raise ValidationError(str(error)) from None


class OptionalChoice(SelectField):
    """A select whose empty option means "not set" (its value becomes None)."""

    def post_validate(self, form, validation_stopped):
        self.value = self.data or None


class CheckboxValue(BooleanField):
    def post_validate(self, form, validation_stopped):
        self.value = bool(self.data)


def keyword_field(block: str, attr: str):
    """A WTForms field for one model attribute of `block`, labelled, helped and validated by the schema."""
    kw = attribute_keywords(block)[attr]
    label = BLOCK_LABELS.get((block, attr), LABELS.get(attr, attr.replace("_", " ").capitalize()))
    is_device = isinstance(kw.type, HostDevice) and attr != kw.attrs[0]
    help_text = DEVICE_HELP if is_device else kw.help
    if isinstance(kw.type, Boolean):
        return CheckboxValue(label, description=help_text)
    if kw.choices:
        default = "" if kw.default is None else f" (default {kw.default})"
        choices = [SelectChoice("", f"— not set{default} —")] + [SelectChoice(c) for c in kw.choices]
        return OptionalChoice(label, choices=choices, description=help_text, validate_choice=True)
    default_hint = None if kw.default is None or is_device else kw.format(kw.default)
    render_kw = {"placeholder": default_hint} if default_hint else {}
    return StringField(label, description=help_text, render_kw=render_kw,
                       validators=[Length(max=MAX_INPUT_LENGTH), KeywordValue(_parser(kw, attr))])


def _block_name(form, field):
    """The name of a virtual server, real server or failover service, as the format library accepts it."""
    try:
        Name().check(field.data or "")
    except ValueError as error:
        raise ValidationError(str(error)) from None


class NamedForm(FlaskForm):
    """The base of the forms of named blocks: the name, then the block's keyword fields."""
    name = StringField("Name", validators=[DataRequired(), Length(max=MAX_INPUT_LENGTH), _block_name],
                       description="One word: no blanks, braces, quotes or leading '#'.")


def keyword_form(block: str, attrs: list[str], base=FlaskForm):
    """A form class with one field per attribute (in the given order) plus the draft version it edits."""
    fields = {attr: keyword_field(block, attr) for attr in attrs}
    fields["draft_version"] = IntegerField(widget=HiddenField.widget)
    return type(f"{block.capitalize()}Form", (base,), fields)


def _text(kw: schema.Keyword, value) -> str:
    return value if isinstance(value, str) else kw.format(value)


def model_data(obj, block: str, attrs: list[str], draft_version: int) -> dict:
    """Form data from a model object: each value as the field shows it (unset values as empty text)."""
    mapping = attribute_keywords(block)
    explicit = obj.explicit if block == "global" else (lambda attr: getattr(obj, attr))
    data = {}
    for attr in attrs:
        kw = mapping[attr]
        value = explicit(attr)
        if isinstance(kw.type, Boolean):
            data[attr] = bool(value)
        elif kw.choices:
            data[attr] = "" if value is None else value
        elif value is None or (value == kw.default and kw.name not in obj.present and attr == kw.name):
            data[attr] = ""
        else:
            data[attr] = _text(kw, value)
    data["draft_version"] = draft_version
    return data


def fill_model(form, obj, block: str, attrs: list[str]) -> None:
    """Write the validated fields into `obj`. An empty field means the keyword's default, not written out;
    a default value that the file did not spell out stays unwritten (the text only changes where edited)."""
    mapping = attribute_keywords(block)
    touched: dict[str, schema.Keyword] = {}
    was_present = set(obj.present)
    for attr in attrs:
        kw = mapping[attr]
        value = form[attr].value
        setattr(obj, attr, kw.default if value is None and attr == kw.name else value)
        touched[kw.name] = kw
    for name, kw in touched.items():
        values = tuple(getattr(obj, attr) for attr in kw.attrs)
        unset = all(value is None for value in values)
        default = values == (kw.default,)
        if unset or (default and name not in was_present):
            obj.present.discard(name)
        else:
            obj.present.add(name)
        obj.spelling.pop(name, None)


def attach_problems(form, problems, block_path: tuple, field_map: dict | None = None) -> None:
    """Put each Problem beside its field: those of `block_path` whose keyword is a field of the form.

    `field_map` maps a keyword to the field showing it when the names differ (e.g. nat_router's device).
    Every other problem is listed at the top of the form (`form.form_errors`), so none is ever hidden.
    """
    field_map = field_map or {}
    form.form_errors = list(getattr(form, "form_errors", []) or [])
    for problem in problems:
        name = field_map.get(problem.keyword, problem.keyword)
        if name is None and "name" in form and " name " in f" {problem.message} ":
            name = "name"  # the block's own name (invalid or used twice)
        if tuple(problem.block) == tuple(block_path) and name and name in form:
            form[name].errors = list(form[name].errors) + [problem.detail]
        else:
            where = " / ".join(str(part) for part in problem.block)
            form.form_errors.append(f"{where}: {problem.message}" if where else problem.message)
