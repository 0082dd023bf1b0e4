"""Certificate facts: from a verified handshake and from the second look agree."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl

import trustme

from engine.probes import tls


def _served(ca: trustme.CA, *names: str, **validity) -> tuple[dict, bytes]:
    """Handshake over a socket pair: the peer certificate as ssl decodes it, and as DER."""
    leaf = ca.issue_cert(*names, **validity)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    client_ctx.check_hostname = False
    client_ctx.verify_flags &= ~ssl.VERIFY_X509_STRICT

    async def handshake() -> tuple[dict, bytes]:
        async def serve(reader, writer):
            await reader.read(1)
            writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=server_ctx)
        port = server.sockets[0].getsockname()[1]
        _reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client_ctx, server_hostname=names[0])
        ssl_object = writer.get_extra_info("ssl_object")
        peer, der = ssl_object.getpeercert(), ssl_object.getpeercert(binary_form=True)
        writer.close()
        server.close()
        await server.wait_closed()
        return peer, der

    return asyncio.run(handshake())


def test_the_verified_and_the_second_look_readings_of_a_certificate_agree():
    ca = trustme.CA()
    not_after = dt.datetime(2031, 5, 17, 12, 0, tzinfo=dt.UTC)
    peer, der = _served(ca, "mail.example.test", "127.0.0.1", not_after=not_after)
    verified, second = tls.from_verified(peer), tls.parse_certificate(der)
    assert verified.names == second.names == ["mail.example.test", "127.0.0.1"]
    assert verified.issuer == second.issuer
    assert verified.not_after == second.not_after == not_after
    assert verified.self_signed is second.self_signed is False


def test_days_left_counts_down_to_expiry_and_goes_negative_after():
    ca = trustme.CA()
    now = dt.datetime.now(dt.UTC)
    peer, _ = _served(ca, "mail.example.test", not_after=now + dt.timedelta(days=5, hours=1))
    info = tls.from_verified(peer)
    assert info.days_left(now) == 5
    assert info.days_left(now + dt.timedelta(days=7)) < 0


def test_a_name_match_accepts_one_wildcard_label_and_exact_addresses():
    assert tls.name_matches("smtp.example.com", ["*.example.com"])
    assert not tls.name_matches("a.b.example.com", ["*.example.com"])
    assert not tls.name_matches("example.com", ["*.example.com"])
    assert tls.name_matches("127.0.0.1", ["localhost", "127.0.0.1"])
    assert not tls.name_matches("127.0.0.2", ["127.0.0.1"])
    assert tls.name_matches("SMTP.Example.com.", ["smtp.example.com"])


def test_one_trust_store_is_loaded_once_per_process_however_many_connections_use_it():
    from engine.probes import tls

    assert tls.context(None) is tls.context(None)
    assert tls.context(None, verify=False) is not tls.context(None)


def test_a_certificate_date_reads_as_the_ssl_module_reads_it():
    for text in (
        "May  9 12:00:00 2027 GMT",
        "Jan  1 00:00:00 1970 GMT",
        "Feb 29 23:59:59 2028 GMT",
        "Dec 31 23:59:59 9999 GMT",
        "Oct 15 07:05:09 2026 GMT",
    ):
        assert tls.cert_time(text) == dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(text), dt.UTC), text


def test_a_certificate_date_of_another_shape_is_left_to_the_ssl_module():
    # A leap second (OpenSSL prints what the certificate holds) and text no certificate has.
    leap = "Jun 30 23:59:60 2027 GMT"
    assert tls.cert_time(leap) == dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(leap), dt.UTC)
    for text in ("Foo  9 12:00:00 2027 GMT", "May  9 12:00 2027 GMT", "Feb 30 00:00:00 2027 GMT"):
        try:
            expected: object = dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(text), dt.UTC)
        except ValueError as exc:
            expected = type(exc)
        try:
            got: object = tls.cert_time(text)
        except ValueError as exc:
            got = type(exc)
        assert got == expected, text
