"""mailtriage merge: real node reports (diagnoses of a real Postfix from several source addresses) side by side."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import lab
from tests.postfixtarget import DOMAIN, PostfixTarget, Target, postfix_target
from tests.test_lab_diagnosis import diagnose_args

USER = f"app@{DOMAIN}"
PASSWORD = "s3cret-app"
NODES = {"node-a": "127.0.0.31", "node-b": "127.0.0.32", "node-c": "127.0.0.33"}
REFUSED = "127.0.0.32"


@pytest.fixture(scope="module")
def refusing() -> Iterator[PostfixTarget]:
    """A Postfix whose check_client_access refuses node-b's address (at RCPT TO, as Postfix does)."""
    with postfix_target(Target(refused_clients=(f"{REFUSED}/32",))) as pf:
        yield pf


def diagnose(cli, pf: PostfixTarget, source: str, password: str = PASSWORD, *extra: str) -> str:
    result = cli(
        "diagnose",
        *("--host", pf.host, "--port", str(pf.port), "--security", "starttls", "--cafile", str(pf.cafile)),
        *("--user", USER, "--password-env", "SMTP_PASSWORD", "--from", USER, "--to", f"someone@{DOMAIN}"),
        *("--source-address", source, "--timeout", "5", "--non-interactive", "--format", "json"),
        *extra,
        environ={"SMTP_PASSWORD": password},
    )
    assert result.code in (0, 1), result.err
    return result.out


@pytest.fixture(scope="module")
def node_reports(cli, refusing, tmp_path_factory) -> Path:
    """One report per node, named by node, as the Ansible playbook fetches them."""
    folder = tmp_path_factory.mktemp("nodes")
    for node, source in NODES.items():
        (folder / f"{node}.json").write_text(diagnose(cli, refusing, source), encoding="utf-8")
    return folder


@pytest.fixture
def nodes(node_reports: Path, tmp_path: Path) -> Path:
    """A copy the test may add to or damage."""
    return Path(shutil.copytree(node_reports, tmp_path / "nodes"))


def merged(cli, *args: str, fmt: str = "json"):
    result = cli("merge", *args, "--format", fmt)
    return result, (json.loads(result.out) if fmt == "json" and result.out else None)


def test_only_the_refused_node_is_named_with_the_address_to_allow(cli, nodes):
    result, fleet = merged(cli, str(nodes))

    assert result.code == 1, result.err
    refused = [c for c in fleet["causes"] if c["finding"] == "ip.not_safelisted"]
    assert [(c["where"], c["nodes"]) for c in refused] == [("some_nodes", ["node-b"])]
    assert refused[0]["addresses"] == [{"node": "node-b", "address": REFUSED, "kind": "local"}]
    assert refused[0]["contact"] == "network_admin"
    fine = [c for c in fleet["causes"] if c["finding"] is None]
    assert [sorted(c["nodes"]) for c in fine] == [["node-a", "node-c"]]
    assert fleet["summary"] == {"nodes": 3, "failing": 1, "causes": 1, "unreadable": 0}


def test_a_node_that_checked_its_egress_is_listed_by_the_address_the_outside_sees(cli, refusing, dns_server, nodes):
    # --check-dns asks the test DNS server's echo, which sees this machine's resolver address.
    checked = diagnose(cli, refusing, REFUSED, PASSWORD, "--check-dns", "--resolver", f"127.0.0.1:{dns_server.port}")
    (nodes / "node-b.json").write_text(checked, encoding="utf-8")

    _, fleet = merged(cli, str(nodes))

    (refused,) = [c for c in fleet["causes"] if c["finding"] == "ip.not_safelisted"]
    assert refused["addresses"] == [{"node": "node-b", "address": "127.0.0.1", "kind": "egress"}]
    node_b = next(n for n in fleet["nodes"] if n["name"] == "node-b")
    assert (node_b["local_address"], node_b["egress_address"]) == (REFUSED, "127.0.0.1")


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
def test_every_format_names_the_refused_node_and_its_address(cli, nodes, fmt):
    result, _ = merged(cli, str(nodes), fmt=fmt)

    assert result.code == 1
    out = result.out
    assert "Only some nodes (1 node)" in out or "Only some nodes: 1 node" in out
    assert "node-b" in out and REFUSED in out
    assert "Add these addresses to the allowed list" in out
    if fmt == "html":
        assert "<details>" in out  # nodes folded


def test_a_cause_every_node_shares_is_said_once_as_a_server_or_account_cause(cli, refusing, tmp_path):
    folder = tmp_path / "nodes"
    folder.mkdir()
    for node, source in NODES.items():
        if source != REFUSED:
            (folder / f"{node}.json").write_text(diagnose(cli, refusing, source, "wrong-password"), encoding="utf-8")

    result, fleet = merged(cli, str(folder))
    text, _ = merged(cli, str(folder), fmt="text")

    assert result.code == 1
    assert [(c["finding"], c["where"], sorted(c["nodes"])) for c in fleet["causes"]] == [
        ("auth.credentials_rejected", "every_node", ["node-a", "node-c"])
    ]
    assert text.out.count("auth.credentials_rejected") == 1 + 2  # the cause once, then each node's row
    assert "The same on every node" in text.out


def test_reports_of_another_target_are_flagged_and_grouped_on_their_own(cli, nodes):
    with lab.start("bad-password") as server:
        other = cli(*diagnose_args(server, "bad-password"), environ={"LAB_PASSWORD": "wrong"})
    (nodes / "node-d.json").write_text(other.out, encoding="utf-8")

    _, fleet = merged(cli, str(nodes))

    assert [n["kind"] for n in fleet["notices"]] == ["mixed_targets"]
    assert f"127.0.0.1:{server.port}" in fleet["notices"][0]["detail"]
    lab_causes = [c for c in fleet["causes"] if c["target"].startswith(f"127.0.0.1:{server.port}")]
    assert [(c["finding"], c["nodes"]) for c in lab_causes] == [("auth.credentials_rejected", ["node-d"])]


def test_reports_of_other_versions_or_far_apart_in_time_are_flagged(cli, nodes):
    report = json.loads((nodes / "node-c.json").read_text(encoding="utf-8"))
    report["tool"]["version"] = "0.0.9"
    report["generated_at"] = "2020-01-01T00:00:00+00:00"
    (nodes / "node-c.json").write_text(json.dumps(report), encoding="utf-8")

    _, fleet = merged(cli, str(nodes))

    kinds = {n["kind"]: n["detail"] for n in fleet["notices"]}
    assert set(kinds) == {"mixed_versions", "time_spread"}
    assert "0.0.9 (1)" in kinds["mixed_versions"]
    assert "node-c at 2020-01-01T00:00:00+00:00" in kinds["time_spread"]


def test_a_truncated_file_gets_one_line_and_the_rest_is_still_merged(cli, nodes):
    whole = (nodes / "node-c.json").read_text(encoding="utf-8")
    (nodes / "node-c.json").write_text(whole[: len(whole) // 2], encoding="utf-8")
    (nodes / "notes.json").write_text('{"hello": 1}\n', encoding="utf-8")

    result, fleet = merged(cli, str(nodes))

    assert result.code == 1
    assert sorted(result.err.strip().splitlines()) == [
        f"mailtriage: merge: {nodes / 'node-c.json'}: the JSON document at line 1 ends early (a truncated file?)",
        f"mailtriage: merge: {nodes / 'notes.json'}: not a mailtriage report: no schema key "
        "(write it with --format json)",
    ]
    assert sorted(n["name"] for n in fleet["nodes"]) == ["node-a", "node-b"]
    assert len(fleet["unreadable"]) == 2


def test_nothing_readable_is_bad_input(cli, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema": "mailtriage.report/1", "findings": [', encoding="utf-8")

    result = cli("merge", str(broken), str(tmp_path / "missing.json"))

    assert result.code == 2
    assert result.err.strip().splitlines() == [
        f"mailtriage: merge: {broken}: the JSON document at line 1 ends early (a truncated file?)",
        f"mailtriage: merge: {tmp_path / 'missing.json'}: no such file or folder",
        "mailtriage: merge: none of the 2 inputs held a readable mailtriage report",
    ]


def test_stdin_may_hold_many_reports_between_log_lines_as_kubectl_logs_gives_them(cli, nodes):
    text = "".join(
        f"pod mailtriage-{i} starting\n{(nodes / f'{node}.json').read_text(encoding='utf-8')}"
        for i, node in enumerate(NODES)
    )

    result = cli("merge", "-", "--format", "json", stdin=text)

    fleet = json.loads(result.out)
    assert result.code == 1, result.err
    lines = text.splitlines()
    starts = [f"stdin:{number}" for number, line in enumerate(lines, 1) if line == "{"]
    assert [n["origin"] for n in fleet["nodes"]] == starts  # each report found where it begins
    # Named by the host name each report carries; one machine here, so kept apart by a suffix.
    assert len({n["name"] for n in fleet["nodes"]}) == 3


def test_a_many_account_summary_merges_as_one_entry_per_account(cli, nodes, tmp_path):
    with lab.start("healthy") as server:
        profile = tmp_path / "accounts.toml"
        profile.write_text(
            f'[defaults]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "starttls"\ncafile = "{server.cafile}"\n'
            f'user = "{lab.LAB_USER}"\nfrom = "{lab.LAB_USER}"\npassword_env = "P"\n\n'
            '[[accounts]]\nname = "billing"\n\n[[accounts]]\nname = "alerts"\n',
            encoding="utf-8",
        )
        summary = cli("diagnose", "--profile", str(profile), "--format", "json", environ={"P": lab.LAB_PASSWORD})
    (tmp_path / "node-z.json").write_text(summary.out, encoding="utf-8")

    result, fleet = merged(cli, str(tmp_path / "node-z.json"))

    assert result.code == 0, result.err
    assert [(n["name"], n["account"], n["verdict"]) for n in fleet["nodes"]] == [
        ("node-z/billing", "billing", "ok"),
        ("node-z/alerts", "alerts", "ok"),
    ]


def visible_text(html: str) -> str:
    """The text a reader sees before unfolding anything: all but the insides of <details> (its summary stays)."""
    import html5lib

    root = html5lib.parse(html, namespaceHTMLElements=False)
    shown: list[str] = []

    def walk(element, folded: bool) -> None:
        if element.tag in ("script", "style", "title"):
            return
        inside = folded or element.tag == "details"
        if not inside or element.tag == "summary":
            shown.append(element.text or "")
        for child in element:
            walk(child, inside and child.tag != "summary")
            if not inside:
                shown.append(child.tail or "")

    walk(root, False)
    return " ".join("".join(shown).split())


def test_at_a_thousand_nodes_the_html_shows_counts_and_causes_and_folds_the_nodes(cli, node_reports, tmp_path):
    healthy = json.loads((node_reports / "node-a.json").read_text(encoding="utf-8"))
    refused = json.loads((node_reports / "node-b.json").read_text(encoding="utf-8"))
    folder = tmp_path / "fleet"
    folder.mkdir()
    for n in range(1000):
        report = json.loads(json.dumps(refused if n % 100 == 7 else healthy))
        for fact in report["facts"]:
            if fact["name"] == "probe.local_address":
                fact["value"] = f"10.0.{n // 256}.{n % 256}"
        (folder / f"node-{n:04d}.json").write_text(json.dumps(report), encoding="utf-8")

    result, _ = merged(cli, str(folder), fmt="html")

    assert result.code == 1
    shown = visible_text(result.out)
    assert shown.startswith("mailtriage: 1000 nodes, 10 with a blocking problem")
    assert "Only some nodes: 10 nodes" in shown and "No blocking problem: 990 nodes" in shown
    assert "10.0.0.7" in shown  # the addresses to allow are actions, so they stay in view
    assert "node-0001" not in shown  # healthy nodes are folded away
    assert len(shown) < 5000 < len(result.out) / 20
