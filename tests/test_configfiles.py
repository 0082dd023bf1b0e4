"""Importing JavaMail and Spring Boot settings files: values, the key and line behind each, errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from engine.inputs.configfiles.properties import PropertiesError, parse_properties
from engine.inputs.configfiles.read import ConfigFileError, load_javamail, load_settings_file, load_spring
from tests.layers import line_of


def write(tmp_path: Path, name: str, text: str, dedent: bool = True) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n") if dedent else text, encoding="utf-8")
    return path


# --- the .properties format ---------------------------------------------------------------------


def test_the_three_separators_and_surrounding_whitespace_give_the_same_pairs():
    entries = parse_properties("a=1\nb : 2\n  c   3\nd\t=\t4\ne:5")
    assert [(e.key, e.value) for e in entries] == [("a", "1"), ("b", "2"), ("c", "3"), ("d", "4"), ("e", "5")]


def test_comments_with_hash_or_bang_and_blank_lines_are_skipped_but_counted():
    entries = parse_properties("# a comment\n\n! another\n   # indented comment\nkey=value\n")
    assert [(e.key, e.value, e.line) for e in entries] == [("key", "value", 5)]


def test_a_continued_value_is_joined_and_keeps_the_line_where_its_key_stands():
    text = "first=1\nmail.smtp.host=smtp.\\\n    example.\\\n\tcom\nafter=2\n"
    entries = parse_properties(text)
    assert [(e.key, e.value, e.line) for e in entries] == [
        ("first", "1", 1),
        ("mail.smtp.host", "smtp.example.com", 2),
        ("after", "2", 5),
    ]


def test_an_even_number_of_trailing_backslashes_is_an_escaped_backslash_not_a_continuation():
    entries = parse_properties("path=C:\\\\\nnext=1\n")
    assert [(e.key, e.value) for e in entries] == [("path", "C:\\"), ("next", "1")]


def test_a_comment_line_ending_in_a_backslash_does_not_swallow_the_next_line():
    entries = parse_properties("# note \\\nkey=value\n")
    assert [(e.key, e.line) for e in entries] == [("key", 2)]


def test_escapes_in_keys_and_values_are_decoded():
    entries = parse_properties("key\\ with\\ spaces\\=x=tab\\there\\u0041\\:\\#\nother=line\\nbreak\n")
    assert entries[0].key == "key with spaces=x"
    assert entries[0].value == "tab\there" + "A:#"
    assert entries[1].value == "line\nbreak"


def test_windows_and_old_mac_line_endings_count_lines_alike():
    entries = parse_properties("a=1\r\nb=2\rc=3\n")
    assert [(e.key, e.line) for e in entries] == [("a", 1), ("b", 2), ("c", 3)]


def test_trailing_whitespace_stays_in_the_value_as_java_keeps_it():
    assert parse_properties("key=value  \n")[0].value == "value  "


def test_a_key_without_a_value_has_an_empty_value():
    assert [(e.key, e.value) for e in parse_properties("lonely\nempty=\n")] == [("lonely", ""), ("empty", "")]


def test_a_malformed_unicode_escape_is_refused_with_its_line_and_key():
    with pytest.raises(PropertiesError) as caught:
        parse_properties("ok=1\nmail.smtp.host=smtp\\u00zz.example.com\n")
    assert caught.value.line == 2
    assert "mail.smtp.host" in caught.value.message and "\\u" in caught.value.message


# --- JavaMail settings ------------------------------------------------------------------------------

JAVAMAIL = """
    # settings of the billing application
    mail.smtp.host=smtp.example.com
    mail.smtp.port=587
    mail.smtp.auth=true
    mail.smtp.user=app@example.com
    mail.smtp.from=billing@example.com
    mail.smtp.starttls.enable=true
    mail.smtp.starttls.required=true
    mail.smtp.ssl.trust=smtp.example.com
    mail.smtp.connectiontimeout=10000
    mail.smtp.timeout=30000
"""


def test_a_javamail_file_yields_every_setting_with_the_key_and_line_that_supplied_it(tmp_path):
    path = write(tmp_path, "mail.properties", JAVAMAIL)
    imported = load_javamail(str(path))
    assert (imported.format, imported.key_prefix) == ("javamail", "mail.smtp")
    assert (imported.host, imported.port, imported.security) == ("smtp.example.com", 587, "starttls")
    assert (imported.user, imported.from_addr, imported.password) == ("app@example.com", "billing@example.com", None)
    assert (imported.auth, imported.starttls_enable, imported.starttls_required) == (True, True, True)
    assert (imported.connect_timeout_ms, imported.read_timeout_ms, imported.ssl_trust) == (
        10000,
        30000,
        "smtp.example.com",
    )
    port = imported.origins["port"]
    assert (port.key, port.line) == ("mail.smtp.port", line_of(path, "mail.smtp.port"))
    assert port.evidence == f"{path}:{port.line}: mail.smtp.port=587"
    assert (
        str(imported.origins["security"]) == f"mail.smtp.starttls.enable at {path}:{line_of(path, 'starttls.enable')}"
    )
    assert imported.not_a_number == imported.not_boolean == imported.ignored == imported.trailing_space == []


def test_ssl_enable_on_587_is_imported_as_ssl_traced_to_mail_smtp_ssl_enable(tmp_path):
    path = write(
        tmp_path, "mail.properties", "mail.smtp.host=smtp.example.com\nmail.smtp.port=587\nmail.smtp.ssl.enable=true\n"
    )
    imported = load_javamail(str(path))
    assert (imported.port, imported.security) == (587, "ssl")
    assert imported.origins["security"].evidence == f"{path}:3: mail.smtp.ssl.enable=true"


def test_without_tls_keys_javamail_speaks_plain_text_and_without_a_port_dials_25(tmp_path):
    imported = load_javamail(str(write(tmp_path, "mail.properties", "mail.smtp.host=relay.example.com\n")))
    assert (imported.security, imported.port, imported.effective_port) == ("none", None, 25)
    assert "security" not in imported.origins and "port" not in imported.origins


def test_the_smtps_protocol_reads_mail_smtps_keys_and_means_implicit_tls_on_465(tmp_path):
    path = write(
        tmp_path,
        "mail.properties",
        """
        mail.transport.protocol=smtps
        mail.smtps.host=smtp.example.com
        mail.smtps.auth=true
        mail.smtps.user=app@example.com
    """,
    )
    imported = load_javamail(str(path))
    assert (imported.key_prefix, imported.host, imported.security, imported.effective_port) == (
        "mail.smtps",
        "smtp.example.com",
        "ssl",
        465,
    )
    assert imported.auth is True
    assert imported.origins["security"].key == "mail.transport.protocol"


def test_mail_smtp_keys_under_the_smtps_protocol_are_named_as_ignored(tmp_path):
    path = write(
        tmp_path,
        "mail.properties",
        """
        mail.transport.protocol=smtps
        mail.smtp.host=smtp.example.com
        mail.smtp.auth=true
        mail.smtps.port=465
    """,
    )
    imported = load_javamail(str(path))
    assert imported.host is None  # the smtps transport never reads mail.smtp.host
    assert [(o.key, o.line) for o in imported.ignored] == [("mail.smtp.host", 2), ("mail.smtp.auth", 3)]


def test_mail_smtps_keys_without_the_smtps_protocol_are_named_as_ignored(tmp_path):
    imported = load_javamail(
        str(write(tmp_path, "mail.properties", "mail.smtp.host=a.example\nmail.smtps.ssl.enable=true\n"))
    )
    assert [o.key for o in imported.ignored] == ["mail.smtps.ssl.enable"]
    assert imported.security == "none"


def test_session_wide_mail_host_and_mail_user_are_the_fallbacks(tmp_path):
    imported = load_javamail(
        str(
            write(
                tmp_path,
                "mail.properties",
                "mail.host=smtp.example.com\nmail.user=app@example.com\nmail.from=app@example.com\n",
            )
        )
    )
    assert (imported.host, imported.user, imported.from_addr) == (
        "smtp.example.com",
        "app@example.com",
        "app@example.com",
    )
    assert imported.origins["host"].key == "mail.host"


def test_an_ssl_socket_factory_means_implicit_tls(tmp_path):
    text = (
        "mail.smtp.host=smtp.example.com\n"
        "mail.smtp.socketFactory.class=javax.net.ssl.SSLSocketFactory\nmail.smtp.port=465\n"
    )
    imported = load_javamail(str(write(tmp_path, "mail.properties", text)))
    assert imported.security == "ssl"
    assert imported.origins["security"].key == "mail.smtp.socketFactory.class"


def test_a_port_that_is_not_a_number_is_kept_as_written_and_named(tmp_path):
    imported = load_javamail(
        str(
            write(tmp_path, "mail.properties", "mail.smtp.host=h.example\nmail.smtp.port=58 7\nmail.smtp.timeout=30s\n")
        )
    )
    assert (imported.port, imported.port_text, imported.effective_port) == (None, "58 7", None)
    assert [(o.key, o.line) for o in imported.not_a_number] == [("mail.smtp.port", 2), ("mail.smtp.timeout", 3)]


def test_a_switch_that_is_not_true_or_false_reads_as_false_and_is_named(tmp_path):
    imported = load_javamail(
        str(write(tmp_path, "mail.properties", "mail.smtp.host=h.example\nmail.smtp.starttls.enable=yes\n"))
    )
    assert imported.starttls_enable is False and imported.security == "none"
    assert [o.evidence for o in imported.not_boolean] == [
        f"{tmp_path / 'mail.properties'}:2: mail.smtp.starttls.enable=yes"
    ]


def test_trailing_spaces_are_named_but_the_value_is_used_without_them(tmp_path):
    imported = load_javamail(
        str(write(tmp_path, "mail.properties", "mail.smtp.host=smtp.example.com  \n", dedent=False))
    )
    assert imported.host == "smtp.example.com"
    assert [o.key for o in imported.trailing_space] == ["mail.smtp.host"]


def test_a_password_in_the_file_is_imported_but_never_shown(tmp_path):
    path = write(tmp_path, "mail.properties", "mail.smtp.host=h.example\nmail.smtp.password=s3cret-in-file\n")
    imported = load_javamail(str(path))
    assert imported.password == "s3cret-in-file"
    assert "s3cret" not in repr(imported)
    assert imported.origins["password"].evidence == f"{path}:2: mail.smtp.password=(value not shown)"


def test_the_later_of_two_equal_keys_wins_as_in_java(tmp_path):
    imported = load_javamail(str(write(tmp_path, "mail.properties", "mail.smtp.port=25\nmail.smtp.port=587\n")))
    assert (imported.port, imported.origins["port"].line) == (587, 2)


# --- Spring Boot --------------------------------------------------------------------------------

SPRING_YML = """
    server:
      port: 8080
    spring:
      mail:
        host: smtp.example.com
        port: 587
        username: app@example.com
        password: s3cret-in-yml
        properties:
          mail:
            smtp:
              auth: true
              starttls:
                enable: yes
                required: true
              connectiontimeout: 10000
"""


def test_spring_yml_nesting_reaches_the_javamail_switches_with_their_lines(tmp_path):
    path = write(tmp_path, "application.yml", SPRING_YML)
    imported = load_spring(str(path))
    assert (imported.format, imported.key_prefix) == ("spring", "spring.mail.properties.mail.smtp")
    assert (imported.host, imported.port, imported.user, imported.security) == (
        "smtp.example.com",
        587,
        "app@example.com",
        "starttls",
    )
    assert (imported.auth, imported.starttls_enable, imported.starttls_required, imported.connect_timeout_ms) == (
        True,
        True,
        True,
        10000,
    )
    assert imported.password == "s3cret-in-yml"
    assert imported.origins["port"].evidence == f"{path}:{line_of(path, 'port: 587')}: spring.mail.port=587"
    enable = imported.origins["starttls_enable"]
    assert (enable.key, enable.line) == (
        "spring.mail.properties.mail.smtp.starttls.enable",
        line_of(path, "enable: yes"),
    )
    assert imported.not_boolean == []  # YAML's yes is a boolean, as Spring's SnakeYAML reads it


def test_spring_yml_dotted_and_bracketed_keys_mean_the_same_as_nesting(tmp_path):
    path = write(
        tmp_path,
        "application.yaml",
        """
        spring.mail:
          host: smtp.example.com
          properties:
            "[mail.smtp.ssl.enable]": true
            mail.smtp.port: 465
    """,
    )
    imported = load_settings_file(str(path))
    assert (imported.host, imported.security, imported.port) == ("smtp.example.com", "ssl", 465)
    assert imported.origins["ssl_enable"].line == 4


def test_spring_application_properties_and_the_explicit_port_winning_over_the_javamail_one(tmp_path):
    path = write(
        tmp_path,
        "application.properties",
        """
        spring.mail.host=smtp.example.com
        spring.mail.port=587
        spring.mail.properties.mail.smtp.port=25
        spring.mail.properties.mail.smtp.ssl.enable=true
        spring.mail.default-encoding=UTF-8
    """,
    )
    imported = load_settings_file(str(path))
    assert imported.format == "spring"
    assert (imported.port, imported.origins["port"].key) == (587, "spring.mail.port")
    assert (imported.security, imported.origins["security"].line) == ("ssl", 4)


def test_spring_bracket_notation_in_application_properties_keeps_the_key_as_written(tmp_path):
    path = write(
        tmp_path,
        "application.properties",
        "spring.mail.host=smtp.example.com\nspring.mail.properties[mail.smtp.connectiontimeout]=5000\n",
    )
    imported = load_spring(str(path))
    assert imported.connect_timeout_ms == 5000
    assert (
        imported.origins["connect_timeout_ms"].evidence
        == f"{path}:2: spring.mail.properties[mail.smtp.connectiontimeout]=5000"
    )


def test_spring_protocol_smtps_selects_the_smtps_transport(tmp_path):
    path = write(
        tmp_path,
        "application.properties",
        "spring.mail.host=smtp.example.com\nspring.mail.protocol=smtps\nspring.mail.properties.mail.smtps.auth=true\n",
    )
    imported = load_spring(str(path))
    assert (imported.key_prefix, imported.security, imported.effective_port, imported.auth) == (
        "spring.mail.properties.mail.smtps",
        "ssl",
        465,
        True,
    )


def test_spring_placeholders_use_their_default_or_say_nothing(tmp_path):
    path = write(
        tmp_path,
        "application.properties",
        "spring.mail.host=${SMTP_HOST:smtp.example.com}\nspring.mail.password=${SMTP_PASSWORD}\n",
    )
    imported = load_spring(str(path))
    assert imported.host == "smtp.example.com"
    assert imported.password is None and "password" not in imported.origins


def test_a_spring_file_of_placeholders_alone_imports_without_values(tmp_path):
    imported = load_spring(str(write(tmp_path, "application.properties", "spring.mail.host=${SMTP_HOST}\n")))
    assert (imported.format, imported.host) == ("spring", None)


def test_profile_documents_of_a_spring_yml_are_skipped(tmp_path):
    path = write(
        tmp_path,
        "application.yml",
        """
        spring.mail.host: smtp.example.com
        ---
        spring:
          config.activate.on-profile: dev
          mail.host: localhost
    """,
    )
    assert load_spring(str(path)).host == "smtp.example.com"


# --- files that cannot be used -------------------------------------------------------------------


def test_a_yaml_syntax_error_names_the_file_and_line(tmp_path):
    path = write(tmp_path, "application.yml", "spring:\n  mail:\n    host: [smtp.example.com\n    port: 587\n")
    with pytest.raises(ConfigFileError) as caught:
        load_spring(str(path))
    assert str(caught.value).startswith(f"{path}:")
    assert caught.value.line in (3, 4, 5) and "YAML syntax" in caught.value.message


def test_a_list_where_spring_expects_one_value_is_refused_at_its_line(tmp_path):
    path = write(tmp_path, "application.yml", "spring:\n  mail:\n    host:\n      - a.example\n      - b.example\n")
    with pytest.raises(ConfigFileError) as caught:
        load_spring(str(path))
    assert str(caught.value) == f"{path}:3: spring.mail.host must be a single value, not a list"


def test_a_yaml_file_that_is_not_a_mapping_is_refused(tmp_path):
    with pytest.raises(ConfigFileError, match=r":1: a Spring configuration file must be a mapping"):
        load_spring(str(write(tmp_path, "application.yml", "- just\n- a list\n")))


def test_a_file_without_mail_settings_is_refused_as_probably_the_wrong_file(tmp_path):
    path = write(tmp_path, "app.properties", "server.port=8080\n")
    with pytest.raises(ConfigFileError) as caught:
        load_javamail(str(path))
    assert (
        str(caught.value) == f"{path}:1: no JavaMail settings (mail.smtp.*, mail.smtps.*, mail.host) found; "
        "is this the file the application loads?"
    )
    with pytest.raises(ConfigFileError, match=r"no spring\.mail"):
        load_spring(str(path))


def test_a_spring_file_given_as_javamail_says_which_flag_to_use(tmp_path):
    with pytest.raises(ConfigFileError, match="--spring-properties"):
        load_javamail(str(write(tmp_path, "application.properties", "spring.mail.host=smtp.example.com\n")))


def test_a_malformed_escape_in_a_file_is_file_line_and_key(tmp_path):
    path = write(tmp_path, "mail.properties", "mail.smtp.host=a\nmail.smtp.user=\\u12\n")
    with pytest.raises(ConfigFileError) as caught:
        load_javamail(str(path))
    assert str(caught.value).startswith(f"{path}:2: value of mail.smtp.user: malformed \\uXXXX escape")


def test_a_missing_file_is_named_without_a_line(tmp_path):
    with pytest.raises(ConfigFileError) as caught:
        load_settings_file(str(tmp_path / "absent.properties"))
    assert str(caught.value) == f"{tmp_path / 'absent.properties'}: cannot read: No such file or directory"


def test_a_binary_file_is_refused(tmp_path):
    path = tmp_path / "mail.properties"
    path.write_bytes(b"mail.smtp.host=a\n\x00\x01\x02")
    with pytest.raises(ConfigFileError, match=r":2: binary content"):
        load_javamail(str(path))


def test_latin_1_files_are_read_as_java_reads_them(tmp_path):
    path = tmp_path / "mail.properties"
    path.write_bytes("mail.smtp.host=h.example\nmail.from=caf\u00e9@example.com\n".encode("latin-1"))
    assert load_javamail(str(path)).from_addr == "caf\u00e9@example.com"


def test_load_settings_file_picks_the_format_by_suffix_and_content(tmp_path):
    javamail = write(tmp_path, "mail.properties", "mail.smtp.host=a.example\n")
    spring_props = write(tmp_path, "application.properties", "spring.mail.host=b.example\n")
    spring_yml = write(tmp_path, "application.yml", "spring.mail.host: c.example\n")
    assert [(i.format, i.host) for i in map(load_settings_file, map(str, (javamail, spring_props, spring_yml)))] == [
        ("javamail", "a.example"),
        ("spring", "b.example"),
        ("spring", "c.example"),
    ]
