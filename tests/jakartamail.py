"""A real Jakarta Mail client (tests/clients/JakartaSend.java) run against the lab servers.

It is compiled once per test session with javac against Debian's Jakarta Mail, and each run
gives the text a Java application shows for the outcome: with debug, the mail.debug output (the
"DEBUG SMTP:" lines and the SMTP dialogue) and then the exception; without, the exception alone,
as Jakarta Mail's own toString() renders it with its nested exceptions. A successful send prints
nothing without debug.

Debian packages (`make test` installs them as root): default-jdk-headless for java and javac, and
libjakarta-mail-java, which puts Jakarta Mail 2.0 in /usr/share/java/jakarta-mail.jar (API and
the SMTP provider in one jar) and depends on libjakarta-activation-java for
/usr/share/java/jakarta-activation.jar. The mail jar's manifest names
/usr/share/java/jakarta.activation.jar, which no package installs, so both jars go on the
class path explicitly. MAILTRIAGE_NO_JAVA=1 declares a machine that cannot have them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

import pytest

from engine import lab

SOURCE = Path(__file__).parent / "clients" / "JakartaSend.java"
JARS = (Path("/usr/share/java/jakarta-mail.jar"), Path("/usr/share/java/jakarta-activation.jar"))
# Set on a machine that deliberately cannot have a JDK or Jakarta Mail: its tests skip, not fail.
OPT_OUT = "MAILTRIAGE_NO_JAVA"

# Jakarta Mail's timeouts bound each connect and each read, never a whole reply: a server that
# sends one byte a second (the lab's drip) is only cut off by a read timeout under a second, and
# one that sends continuation lines for ever (endless-reply) by nothing at all. So reads time
# out after 800 ms, and every run is stopped after RUN_LIMIT seconds whatever the client does.
CONNECT_TIMEOUT_MS = 2000
READ_TIMEOUT_MS = 800
RUN_LIMIT = 6.0
COMPILE_LIMIT = 120.0
# The name the client greets with; left to the library, it would look up this machine's own name.
EHLO_NAME = "client.invalid"
# The JVM resolves names from this file alone (jdk.net.hosts.file), never through DNS: the lab's
# name is 127.0.0.1 and every other name is unknown.
HOSTS_FILE = "hosts"
PASSWORD_ENV = "SMTP_PASSWORD"


Setting = str | int | bool | None


class Outcome(NamedTuple):
    code: int | None  # 0 sent, 1 Jakarta Mail failed; None: still running at RUN_LIMIT, stopped
    output: str  # stdout and stderr as one stream, as a console shows them


def java_problem() -> str | None:
    """Why the client cannot be compiled or run here, or None."""
    missing = [tool for tool in ("java", "javac") if shutil.which(tool) is None]
    missing += [str(jar) for jar in JARS if not jar.is_file()]
    if not missing:
        return None
    return (
        f"{', '.join(missing)} missing; `make test` installs Debian's default-jdk-headless and "
        "libjakarta-mail-java as root (apt-get)"
    )


def require_java() -> None:
    """Fail (not skip) when the JDK or Jakarta Mail is missing, unless the machine opted out."""
    problem = java_problem()
    if problem is None:
        return
    if os.environ.get(OPT_OUT) == "1":
        pytest.skip(f"{problem} ({OPT_OUT}=1 says this machine cannot have them)")
    pytest.fail(f"{problem}; or set {OPT_OUT}=1 to skip the Jakarta Mail tests deliberately", pytrace=False)


def class_path(*directories: Path) -> str:
    return os.pathsep.join([*(str(jar) for jar in JARS), *(str(d) for d in directories)])


def compile_client(directory: Path) -> Path:
    """Compile JakartaSend.java into directory and return it; RuntimeError with javac's words if it fails."""
    problem = java_problem()
    if problem is not None:
        raise RuntimeError(problem)
    done = subprocess.run(
        ["javac", "-d", str(directory), "-cp", class_path(), str(SOURCE)],
        capture_output=True,
        text=True,
        timeout=COMPILE_LIMIT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"javac could not compile {SOURCE.name}:\n{done.stdout}{done.stderr}")
    (directory / HOSTS_FILE).write_text(f"127.0.0.1 {lab.SERVER_NAME}\n")
    return directory


class JakartaMail:
    """The compiled client: run() sends one message to a lab server the way the lab expects."""

    def __init__(self, classes: Path) -> None:
        self.classes = classes

    def run(self, server: lab.LabServer, debug: bool, **settings: Setting) -> Outcome:
        """Send to a lab server with its scenario's security, the lab account and the lab's CA;
        settings override any of those (see send()); user=None sends without credentials.

        The host is the name the lab's certificates carry: on this JDK, Jakarta Mail 2.0 matches
        a certificate's DNS names only, so 127.0.0.1 would fail its identity check even with the
        right certificate ("Can't verify identity of server: 127.0.0.1")."""
        lab_settings: dict[str, Setting] = {
            "host": lab.SERVER_NAME,
            "port": server.port,
            "security": server.scenario.security,
            "user": lab.LAB_USER,
            "password": lab.LAB_PASSWORD,
            "from_": lab.LAB_SENDER,
            "to": lab.LAB_RECIPIENT,
            "cafile": str(server.cafile),
        }
        return self.send(debug, **{**lab_settings, **settings})

    def send(self, debug: bool, **settings: Setting) -> Outcome:
        """Send one message. Settings: host, port, security (none|starttls|ssl), user, password,
        from_, to, cafile, connect_timeout and timeout (ms), ehlo_name, check_server_identity,
        debug_auth (show the AUTH dialogue); None or False leaves one out."""
        values: dict[str, Setting] = {
            "host": "127.0.0.1",
            "port": 25,
            "security": "starttls",
            "user": None,
            "password": None,
            "from_": lab.LAB_SENDER,
            "to": lab.LAB_RECIPIENT,
            "cafile": None,
            "connect_timeout": CONNECT_TIMEOUT_MS,
            "timeout": READ_TIMEOUT_MS,
            "ehlo_name": EHLO_NAME,
            # Angus Mail, Jakarta Mail's implementation since 2.1, checks the certificate's names
            # by default; Debian's 2.0 does so only when told. Told here, a wrong-host certificate
            # fails as it does in a current application.
            "check_server_identity": True,
            "debug_auth": False,
        }
        unknown = set(settings) - set(values)
        if unknown:
            raise TypeError(f"unknown Jakarta Mail settings: {', '.join(sorted(unknown))}")
        values.update(settings)
        password = values.pop("password")
        argv = ["--password-env", PASSWORD_ENV]
        for name, value in values.items():
            option = "--" + name.rstrip("_").replace("_", "-")
            if value is None or value is False:
                continue
            if value is True:
                argv += [option] if name == "debug_auth" else [option, "true"]
            else:
                argv += [option, str(value)]
        if debug:
            argv.append("--debug")
        return self._java(argv, {PASSWORD_ENV: str(password)} if password is not None else {})

    def _java(self, argv: list[str], secrets: dict[str, str]) -> Outcome:
        # A clean environment: no JAVA_TOOL_OPTIONS notices, a UTF-8 locale as on a server.
        environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", **secrets}
        command = [
            "java",
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            f"-Djdk.net.hosts.file={self.classes / HOSTS_FILE}",
            "-cp",
            class_path(self.classes),
            "JakartaSend",
            *argv,
        ]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=environment)
        try:
            output, _ = process.communicate(timeout=RUN_LIMIT)
            code: int | None = process.returncode
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
            code = None
        return Outcome(code, output.decode("utf-8", errors="replace"))


@pytest.fixture(scope="session")
def jakarta_mail(tmp_path_factory: pytest.TempPathFactory) -> JakartaMail:
    """The Jakarta Mail client, compiled once for the session."""
    require_java()
    try:
        return JakartaMail(compile_client(tmp_path_factory.mktemp("jakarta-classes")))
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)


def conclusion(report: dict) -> str | None:
    """What a mailtriage JSON report concludes first: its first error finding, else its first finding."""
    findings = report["findings"]
    errors = [finding for finding in findings if finding["severity"] == "error"]
    return (errors or findings or [{"id": None}])[0]["id"]
