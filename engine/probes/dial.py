"""Every connection a probe opens, from the local address the run was asked to use."""

from __future__ import annotations

import asyncio
import ssl

Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def dial(
    address: str,
    port: int,
    timeout: float,
    *,
    source: str | None = None,
    tls: ssl.SSLContext | None = None,
    server_hostname: str | None = None,
) -> Streams:
    """open_connection within timeout, bound to source (as swaks --local-interface) when given.

    Raises what open_connection raises: TimeoutError, OSError (EADDRNOTAVAIL for a source the
    machine lacks), ssl.SSLError; callers say what each means at their stage.
    """
    return await asyncio.wait_for(
        asyncio.open_connection(
            address,
            port,
            ssl=tls,
            server_hostname=server_hostname if tls else None,
            ssl_handshake_timeout=max(timeout, 0.1) if tls else None,
            local_addr=(source, 0) if source else None,
        ),
        max(timeout, 0.01),
    )
