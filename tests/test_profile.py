"""engine.inputs.profile: TOML profiles with defaults; every mistake named by file, line and key."""

from __future__ import annotations

import pytest

from engine.inputs.profile import ProfileError, load_profile


def write(tmp_path, text: str):
    path = tmp_path / "accounts.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_defaults_apply_to_every_account_and_an_account_overrides_them(tmp_path):
    path = write(
        tmp_path,
        """
[defaults]
host = "smtp.example.com"
port = 587
security = "starttls"
to = "postmaster@example.com"

[[accounts]]
name = "billing"
user = "billing@example.com"

[[accounts]]
name = "alerts"
port = 465
security = "ssl"
""",
    )
    billing, alerts = load_profile(path)
    assert (billing.name, billing.entry.host, billing.entry.port, billing.entry.user) == (
        "billing",
        "smtp.example.com",
        587,
        "billing@example.com",
    )
    assert (alerts.entry.port, alerts.entry.security, alerts.entry.to_addr) == (465, "ssl", "postmaster@example.com")
    assert billing.origin == f"{path}:8" and alerts.origin == f"{path}:12"  # the text starts with a blank line


def test_an_account_without_a_name_is_named_after_its_user(tmp_path):
    path = write(tmp_path, '[[accounts]]\nhost = "h"\nuser = "hr@example.com"\n\n[[accounts]]\nhost = "h"\n')
    assert [a.name for a in load_profile(path)] == ["hr@example.com", "account-2"]


def test_a_password_in_the_profile_is_refused_with_the_line_and_the_alternative(tmp_path):
    path = write(tmp_path, '[[accounts]]\nhost = "h"\nuser = "u"\npassword = "hunter2"\n')
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:4: a password does not belong in a profile")
    assert "password_env" in message and "hunter2" not in message


def test_an_unknown_key_names_its_line_and_the_keys_allowed(tmp_path):
    path = write(
        tmp_path, '[defaults]\nhost = "h"\n\n[[accounts]]\nname = "a"\n\n[[accounts]]\nname = "b"\nprot = 25\n'
    )
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    assert str(caught.value).startswith(f"{path}:9: unknown key 'prot' (allowed: ")
    assert "port" in str(caught.value)


def test_a_port_out_of_range_names_its_line(tmp_path):
    path = write(tmp_path, '[defaults]\nport = 70000\n\n[[accounts]]\nhost = "h"\n')
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    assert str(caught.value).startswith(f"{path}:2: defaults.port:")


def test_broken_toml_gives_the_line_of_the_syntax_error(tmp_path):
    path = write(tmp_path, '[[accounts]]\nhost = "h"\nport = \n')
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    assert str(caught.value).startswith(f"{path}:3: not valid TOML")


def test_a_profile_without_accounts_says_how_to_add_one(tmp_path):
    path = write(tmp_path, '[defaults]\nhost = "h"\n')
    with pytest.raises(ProfileError, match="add at least one \\[\\[accounts\\]\\] table"):
        load_profile(path)


def test_an_account_without_a_host_anywhere_is_refused(tmp_path):
    path = write(tmp_path, '[[accounts]]\nname = "lonely"\n')
    with pytest.raises(ProfileError, match=r":1: account 'lonely' has no host"):
        load_profile(path)


def test_two_accounts_with_one_name_are_refused_naming_both_places(tmp_path):
    path = write(tmp_path, '[[accounts]]\nname = "a"\nhost = "h"\n[[accounts]]\nname = "a"\nhost = "h"\n')
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    assert str(caught.value) == f"{path}:4: account name 'a' is used twice (first at {path}:1); names must be unique"


def test_a_missing_profile_is_a_clear_error(tmp_path):
    with pytest.raises(ProfileError, match=r"cannot read profile .*nope\.toml"):
        load_profile(str(tmp_path / "nope.toml"))


def test_one_table_naming_two_password_sources_is_refused_but_an_account_may_replace_the_default(tmp_path):
    path = write(
        tmp_path, '[defaults]\nhost = "h"\npassword_env = "A"\npassword_file = "f"\n\n[[accounts]]\nname = "x"\n'
    )
    with pytest.raises(ProfileError, match=r":4: \[defaults\] sets both password_env and password_file"):
        load_profile(path)
    path = write(
        tmp_path, '[defaults]\nhost = "h"\npassword_env = "A"\n\n[[accounts]]\nname = "x"\npassword_file = "f"\n'
    )
    [only] = load_profile(path)
    assert (only.entry.password_env, only.entry.password_file) == (None, "f")
