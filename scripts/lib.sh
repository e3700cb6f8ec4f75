# Shared helpers of the set-up scripts. Sourced, not run.
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${PIRANHA_VENV:-$TOP/.venv}
CONSTRAINTS=$TOP/requirements/constraints.txt
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Install the Debian packages that are not installed yet (apt-get update only when something is missing).
apt_ensure() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "==> installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
}

# Create the virtual environment and install both distributions into it (editable), pinned.
venv_ensure() {
    local extras=${1:-}
    if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
        apt_ensure python3-venv
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        echo "==> creating $VENV"
        python3 -m venv "$VENV"
    fi
    echo "==> installing piranha-daemons and piranha-web${extras:+[$extras]} into $VENV"
    "$VENV/bin/pip" install -q -c "$CONSTRAINTS" -e "$TOP/daemons" -e "$TOP${extras:+[$extras]}"
}
