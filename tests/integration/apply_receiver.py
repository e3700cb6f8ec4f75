"""A control-socket server that records each request it gets: the "pulse" a remote reload must reach.

    python apply_receiver.py SOCKET LOG      # answers every command with "reloaded", appends one JSON line
    python apply_receiver.py SOCKET LOG --refuse   # answers with an error (a pulse that refuses the file)

It stops by itself after 120 s so a failed test cannot leave it behind.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from piranha.control.protocol import CommandError, serve

LIFETIME = 120.0


async def main(socket_path: str, log_path: str, refuse: bool) -> None:
    def handler(command: str, args: dict):
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps({"command": command, "args": args, "time": time.time()}) + "\n")
        if refuse:
            raise CommandError("lvs.cf does not validate; the running configuration stays")
        return "reloaded"

    server = await serve(socket_path, handler, mode=0o600)
    async with server:
        await asyncio.sleep(LIFETIME)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], "--refuse" in sys.argv[3:]))
