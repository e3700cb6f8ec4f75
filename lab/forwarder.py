"""Host side: 127.0.0.1:PORT in the host's namespace → TARGET inside the lab's namespace (pl-lab).

    python -m lab.forwarder --port 8636 --netns pl-lab --target 10.0.0.1:3636

The listening socket is opened first, in the host's namespace, on loopback only; then the whole process
enters pl-lab with setns(2), so every outgoing socket is created there and reaches UML over the TAP link.
Nothing but loopback, the TAP link and the lab's namespaces carries the traffic.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import socket
import sys

from lab.netns import enter

log = logging.getLogger("lab-forwarder")
MAX_CLIENTS = 256


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except OSError:
            pass


async def forward(listener: socket.socket, host: str, port: int) -> None:
    slots = asyncio.Semaphore(MAX_CLIENTS)

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async with slots:
            try:
                up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
            except (OSError, asyncio.TimeoutError) as exc:
                log.warning("cannot reach %s:%d in the lab: %s", host, port, exc)
                writer.close()
                return
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(on_client, sock=listener)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info("listening on 127.0.0.1:%d", listener.getsockname()[1])
    await stop.wait()
    server.close()
    log.info("stopped")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lab-forwarder", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="loopback port on the host")
    parser.add_argument("--netns", required=True, help="the lab's host namespace")
    parser.add_argument("--target", required=True, help="ADDRESS:PORT inside the lab")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(asctime)s lab-forwarder: %(message)s")
    host, _, port = args.target.rpartition(":")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("127.0.0.1", args.port))
    except OSError as exc:
        print(f"lab-forwarder: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    listener.listen(128)
    enter(args.netns)  # single-threaded here: the whole process is now in the lab's namespace
    asyncio.run(forward(listener, host, int(port)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
