"""Live status of both directors, collected once and rendered three ways (the /control page, /api/v1/status
and /metrics): `sources` reaches each node's pulse (local control socket, the partner over ssh), `document`
normalises what they said into one status document, `history` keeps the samples behind the charts and the
recent-events list, `actions` carries operator actions to the right node.
"""
