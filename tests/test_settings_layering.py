"""Flags over a settings file: which value wins, and the config.* facts that say where it came from."""

from __future__ import annotations

from engine.inputs.configfiles.read import load_javamail
from engine.inputs.settings import AccountSettings, layered

NOTHING_GIVEN = {"host": None, "port": None, "security": None, "user": None, "from_addr": None}


def facts_of(settings: AccountSettings) -> dict[str, object]:
    return {o.name: o.value for o in settings.observations()}


def test_flags_alone_behave_as_before_with_no_provenance_facts():
    settings = AccountSettings(**layered(None, {**NOTHING_GIVEN, "host": "smtp.example.com"}))
    assert (settings.host, settings.port, settings.security, settings.source) == (
        "smtp.example.com",
        587,
        "auto",
        "flags",
    )
    assert not [
        name for name in facts_of(settings) if name.endswith("_set_by") or name in ("config.file", "config.format")
    ]


def test_a_flag_wins_over_the_file_and_says_so(tmp_path):
    path = tmp_path / "mail.properties"
    path.write_text(
        "mail.smtp.host=smtp.example.com\nmail.smtp.port=587\nmail.smtp.ssl.enable=true\n", encoding="utf-8"
    )
    settings = AccountSettings(**layered(load_javamail(str(path)), {**NOTHING_GIVEN, "port": 465}))
    facts = facts_of(settings)
    assert (settings.host, settings.port, settings.security, settings.source) == (
        "smtp.example.com",
        465,
        "ssl",
        str(path),
    )
    assert facts["config.port_set_by"] == "--port on the command line"
    assert facts["config.security_set_by"] == f"mail.smtp.ssl.enable at {path}:3"
    assert (facts["config.format"], facts["config.key_prefix"], facts["config.ssl_enable"]) == (
        "javamail",
        "mail.smtp",
        True,
    )
    evidence = {o.name: o.evidence for o in settings.observations()}
    assert evidence["config.host"] == f"{path}:1: mail.smtp.host=smtp.example.com"
    assert evidence["config.port"] == "port = 465"


def test_a_port_that_is_not_a_number_leaves_no_port_fact_and_no_usable_port(tmp_path):
    path = tmp_path / "mail.properties"
    path.write_text("mail.smtp.host=smtp.example.com\nmail.smtp.port=five\n", encoding="utf-8")
    settings = AccountSettings(**layered(load_javamail(str(path)), NOTHING_GIVEN))
    facts = facts_of(settings)
    assert "config.port" not in facts and facts["config.not_a_number"] == "mail.smtp.port"
    assert settings.port_valid is False


def test_the_from_domain_is_compared_with_the_users_whatever_the_case():
    same = AccountSettings(user="App@Example.com", from_addr="noreply@example.COM")
    other = AccountSettings(user="app@example.com", from_addr="noreply@other.example")
    api_key_user = AccountSettings(user="apikey", from_addr="noreply@example.com")
    assert facts_of(same)["config.from_domain_matches_user"] is True
    assert facts_of(other)["config.from_domain_matches_user"] is False
    assert "config.from_domain_matches_user" not in facts_of(api_key_user)
