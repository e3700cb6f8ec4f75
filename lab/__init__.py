"""The lab: a virtual LVS cluster in one User-Mode Linux kernel, driven from the host's browser.

    ./scripts/lab start     # boots UML, prints http://127.0.0.1:PORT/ and a one-time admin password
    ./scripts/lab status
    ./scripts/lab stop

Host side: `lab.host` (namespace pl-lab holding the TAP link, UML process, forwarder `lab.forwarder`).
Inside UML: `lab.agent` builds the namespaces (`lab.topology`), runs the real servers (`lab.realserver`),
the client (`lab.traffic`), sshd, pulse on both directors and the console, and answers lab controls.
Every address below exists only inside UML or inside the pl-lab namespace.
"""

# The TAP link between the host's pl-lab namespace and UML's eth0.
TAP_NAME = "pltap0"
HOST_NAMESPACE = "pl-lab"
TAP_HOST_ADDRESS = "172.31.255.1"
TAP_UML_ADDRESS = "172.31.255.2"
TAP_PREFIX = 30
TAP_NET = "172.31.255.0/30"

# Inside UML: the public LAN (client, directors, VIP) and the real servers' LAN behind the NAT router.
PUBLIC_NET = "10.0.0.0/24"
UML_GATEWAY = "10.0.0.254"          # UML's init namespace on the public LAN: the route in from the TAP
CLIENT = "10.0.0.10"
VIP = "10.0.0.100"
DIRECTORS = {"dir1": ("10.0.0.1", "10.1.0.1"), "dir2": ("10.0.0.2", "10.1.0.2")}
NAT_ROUTER = "10.1.0.254"
REAL_SERVERS = {"rs1": "10.1.0.11", "rs2": "10.1.0.12", "rs3": "10.1.0.13", "rs4": "10.1.0.14"}
CONFIGURED_SERVERS = ("rs1", "rs2", "rs3")   # rs4 runs its service but is not in the first lvs.cf
SERVICE_PORT = 80
CONSOLE_PORT = 3636
AGENT_PORT = 7373                    # the agent's JSON-lines port on TAP_UML_ADDRESS (host side reaches it)
