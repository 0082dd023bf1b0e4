"""`knowledge list` and `knowledge explain` show what the knowledge base holds."""


def test_list_names_every_finding_with_the_rules_that_reach_it(cli, kb):
    result = cli("knowledge", "list")
    assert result.code == 0
    for ident in kb.findings:
        assert ident in result.out
    line = next(lit for lit in result.out.splitlines() if lit.strip().startswith("network.connection_refused"))
    assert "tcp-connection-refused" in line


def test_explain_a_finding_shows_the_same_sections_as_every_other(cli):
    result = cli("knowledge", "explain", "dns.host_not_found")
    assert result.code == 0
    for section in (
        "What it means",
        "Why it matters",
        "What to do",
        "When it can mislead",
        "References",
        "Rules that reach it",
    ):
        assert section in result.out
    assert "dns-host-not-found" in result.out
    assert "cloud -> cloud_support" in result.out


def test_explain_a_rule_names_its_file_and_its_finding(cli):
    result = cli("knowledge", "explain", "tcp-connection-timeout")
    assert result.code == 0
    assert "rules/network/tcp-connection-timeout.yaml:1" in result.out
    assert "concludes: network.connection_timeout" in result.out


def test_explain_an_unknown_id_suggests_the_nearest_one(cli):
    result = cli("knowledge", "explain", "dns.host_not_fund")
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        "mailtriage: knowledge explain: no finding or rule 'dns.host_not_fund' (did you mean 'dns.host_not_found'?)"
    ]


# --- providers (knowledge/providers.yaml) -------------------------------------------------------


def test_list_shows_each_provider_with_the_findings_it_has_steps_for(cli):
    result = cli("knowledge", "list")
    assert result.code == 0
    [row] = [line for line in result.out.splitlines() if line.strip().startswith("microsoft365 ")]
    assert "service" in row and "Microsoft 365 (Exchange Online)" in row and "auth.account_verification_required" in row


def test_explain_a_finding_shows_the_providers_own_steps_labelled(cli):
    result = cli("knowledge", "explain", "auth.account_verification_required")
    assert result.code == 0
    assert "Provider-specific steps" in result.out
    assert "  - Microsoft 365 (Exchange Online): Exchange Online leads with OAuth 2.0" in result.out
