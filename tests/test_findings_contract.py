"""The finding catalogue is a contract (findings.md): its ids are permanent and fully described."""

from __future__ import annotations

import pytest

from engine.knowledge import schema as s

# The 27 ids of findings.md, copied here on purpose: the test is the contract, not a mirror of it.
CONTRACT_IDS = [
    "config.invalid",
    "dns.host_not_found",
    "network.connection_refused",
    "network.connection_timeout",
    "network.outbound_port_blocked",
    "network.server_specific",
    "smtp.no_greeting",
    "smtp.service_unavailable",
    "tls.mode_mismatch",
    "tls.starttls_not_offered",
    "tls.required_by_server",
    "tls.certificate_untrusted",
    "tls.certificate_expired",
    "tls.hostname_mismatch",
    "tls.handshake_failed",
    "auth.not_offered",
    "auth.required",
    "auth.credentials_rejected",
    "auth.account_verification_required",
    "sender.not_registered",
    "ip.not_safelisted",
    "relay.denied",
    "recipient.rejected",
    "reputation.sender_untrusted",
    "queue.processor_not_running",
    "queue.failed_messages",
    "connectivity.ok",
]


def test_the_contract_lists_27_distinct_ids():
    assert len(CONTRACT_IDS) == 27
    assert len(set(CONTRACT_IDS)) == 27


def test_every_contract_id_is_declared_in_the_shipped_findings(kb):
    missing = [fid for fid in CONTRACT_IDS if fid not in kb.findings]
    assert missing == []


@pytest.mark.parametrize("fid", CONTRACT_IDS)
def test_each_contract_finding_has_every_section_a_report_needs(kb, fid):
    spec = kb.findings[fid]
    assert spec.title.strip() and spec.summary.strip() and spec.why.strip()
    assert spec.fix and all((step if isinstance(step, str) else step.text).strip() for step in spec.fix)
    assert spec.status != "deprecated"
    if isinstance(spec.contact, s.Routing):
        assert spec.contact.cases, f"{fid} routes by {spec.contact.by} but lists no cases"


def test_a_blocked_connection_routes_on_premises_and_own_cloud_to_the_network_admin_and_vendor_cloud_to_its_support(kb):
    for fid in ("network.connection_refused", "network.connection_timeout", "network.outbound_port_blocked"):
        contact = kb.findings[fid].contact
        assert isinstance(contact, s.Routing), fid
        assert contact.by == "answer.deployment"
        assert contact.cases == {
            "on_premises": "network_admin",
            "own_cloud": "network_admin",
            "vendor_cloud": "cloud_support",
        }


def test_only_connectivity_ok_is_informational(kb):
    assert kb.findings["connectivity.ok"].severity == "info"
    assert [fid for fid in CONTRACT_IDS if kb.findings[fid].severity == "info"] == ["connectivity.ok"]
