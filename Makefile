# Two commands matter: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup postfix java chromium demo picture docs test test-pythons lint clean

# The test extra includes the lab extra (aiosmtpd, trustme), which the demo's server needs too.
setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "mailtriage needs Python 3.11 or newer (found %s); set PYTHON=python3.11 or newer" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

# A real diagnosis of a real local target: the lab's "bad password" SMTP server on loopback
# (STARTTLS with a generated certificate, AUTH refused with 535 5.7.8), started here and stopped
# after. Exit 1 means "problem found", which is the point of the demo.
DEMO_SCENARIO ?= bad-password

demo: setup
	@port=$$($(BIN)/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'); \
	$(BIN)/mailtriage lab $(DEMO_SCENARIO) --port $$port > $(VENV)/demo-lab.txt 2>&1 & lab=$$!; \
	trap 'kill $$lab 2>/dev/null; wait $$lab 2>/dev/null' EXIT; \
	for i in $$(seq 100); do grep -q '^listening' $(VENV)/demo-lab.txt 2>/dev/null && break; sleep 0.1; done; \
	cafile=$$(sed -n 's/.*--cafile \([^ ]*\).*/\1/p' $(VENV)/demo-lab.txt); \
	printf 'deployment: on_premises\n' > $(VENV)/demo-answers.yaml; \
	echo "lab: $$(head -n 1 $(VENV)/demo-lab.txt)"; \
	echo "\$$ mailtriage diagnose --host 127.0.0.1 --port $$port --security starttls --cafile $$cafile --user app@example.com --from app@example.com --to someone@example.com --answers $(VENV)/demo-answers.yaml --non-interactive"; \
	MAILTRIAGE_PASSWORD=not-the-right-one $(BIN)/mailtriage diagnose --host 127.0.0.1 --port $$port \
		--security starttls --cafile $$cafile --user app@example.com --from app@example.com \
		--to someone@example.com --answers $(VENV)/demo-answers.yaml --non-interactive --timeout 5; \
	rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 1 ]

# The pages of docs/ that code and knowledge already say (CLI reference, finding catalogue);
# tests/test_docs.py fails when one is stale.
docs: setup
	$(BIN)/python -m docs.generate

# The README's picture of the HTML report: the demo's diagnosis, drawn by headless Chromium.
picture: setup chromium
	$(BIN)/python -m docs.picture

# The Postfix tests start private Postfix instances on loopback, so they need Debian's postfix
# package, and for SASL logins Cyrus SASL's saslpasswd2 (sasl2-bin) and its PLAIN/LOGIN modules
# (libsasl2-modules). Postfix is preseeded as "No configuration": the system's own instance gets
# no main.cf and is never started; sasl2-bin installs its saslauthd disabled, and it stays so.
# Without root or apt-get nothing is installed and those tests fail saying why;
# MAILTRIAGE_NO_POSTFIX=1 declares a machine that cannot have Postfix (they skip).
POSTQUEUE_PATH := $(PATH):/usr/sbin:/usr/local/sbin:/sbin
POSTFIX_PACKAGES := postfix sasl2-bin libsasl2-modules
APT_GET := DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600

postfix:
	@if PATH="$(POSTQUEUE_PATH)" command -v postqueue >/dev/null 2>&1 \
		&& PATH="$(POSTQUEUE_PATH)" command -v saslpasswd2 >/dev/null 2>&1 \
		&& ls /usr/lib/*/sasl2/libplain.so >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's $(POSTFIX_PACKAGES) for the Postfix tests (no configuration; nothing is started)"; \
		echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections; \
		$(APT_GET) install -y -q $(POSTFIX_PACKAGES) >/dev/null \
		|| { $(APT_GET) update -q >/dev/null && $(APT_GET) install -y -q $(POSTFIX_PACKAGES) >/dev/null; }; \
	else \
		echo "postfix or sasl2-bin is missing and cannot be installed here (needs root and apt-get): the Postfix tests will fail; set MAILTRIAGE_NO_POSTFIX=1 to skip them on purpose"; \
	fi

# The Jakarta Mail tests compile a small Java client (tests/clients/JakartaSend.java) and run it
# against the lab, so they need a JDK and Debian's Jakarta Mail: libjakarta-mail-java puts
# jakarta-mail.jar in /usr/share/java and pulls in libjakarta-activation-java beside it. Without
# root or apt-get nothing is installed and those tests fail saying why; MAILTRIAGE_NO_JAVA=1
# declares a machine that cannot have them (they skip, and nothing is installed).
JAVA_PACKAGES := default-jdk-headless libjakarta-mail-java
JAKARTA_JARS := /usr/share/java/jakarta-mail.jar /usr/share/java/jakarta-activation.jar

java:
	@if command -v java >/dev/null 2>&1 && command -v javac >/dev/null 2>&1 \
		&& ls $(JAKARTA_JARS) >/dev/null 2>&1; then :; \
	elif [ "$${MAILTRIAGE_NO_JAVA:-}" = 1 ]; then \
		echo "MAILTRIAGE_NO_JAVA=1: no JDK or Jakarta Mail installed; the Jakarta Mail tests skip"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's $(JAVA_PACKAGES) for the Jakarta Mail tests"; \
		$(APT_GET) install -y -q $(JAVA_PACKAGES) >/dev/null \
		|| { $(APT_GET) update -q >/dev/null && $(APT_GET) install -y -q $(JAVA_PACKAGES) >/dev/null; }; \
	else \
		echo "a JDK or Jakarta Mail is missing and cannot be installed here (needs root and apt-get): the Jakarta Mail tests will fail; set MAILTRIAGE_NO_JAVA=1 to skip them on purpose"; \
	fi

# The HTML report is rendered by headless Chromium in the tests (a page that parses is not yet a
# page that shows): Debian's chromium. Without root or apt-get nothing is installed and that test
# fails saying why; MAILTRIAGE_NO_CHROMIUM=1 declares a machine that cannot have it (it skips).
chromium:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$${MAILTRIAGE_NO_CHROMIUM:-}" = 1 ]; then \
		echo "MAILTRIAGE_NO_CHROMIUM=1: no Chromium installed; the HTML rendering test skips"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's chromium for the HTML rendering test"; \
		$(APT_GET) install -y -q --no-install-recommends chromium >/dev/null \
		|| { $(APT_GET) update -q >/dev/null && $(APT_GET) install -y -q --no-install-recommends chromium >/dev/null; }; \
	else \
		echo "chromium is missing and cannot be installed here (needs root and apt-get): the HTML rendering test will fail; set MAILTRIAGE_NO_CHROMIUM=1 to skip it on purpose"; \
	fi


# Style, types and the knowledge base, before any test runs.
lint: setup
	$(BIN)/ruff check engine tests benchmarks docs
	$(BIN)/ruff format --check engine tests benchmarks docs
	$(BIN)/mypy
	$(BIN)/mailtriage knowledge lint

test: setup postfix java chromium lint
	$(BIN)/python -m pytest

# Users run Python 3.11, 3.12 and 3.13. `make test` uses the default python3; this runs the whole
# suite again on each other version, in a venv of its own (.venv-3.12, ...), found on PATH or
# among pyenv's versions. CI runs both.
OTHER_PYTHONS ?= 3.12 3.13

test-pythons: postfix java chromium
	@for v in $(OTHER_PYTHONS); do \
		py=""; \
		if python$$v -c pass 2>/dev/null; then py=$$(command -v python$$v); \
		elif command -v pyenv >/dev/null 2>&1; then \
			full=$$(pyenv versions --bare | grep -E "^$$v(\.|$$)" | tail -n 1); \
			[ -n "$$full" ] && py="$$(pyenv root)/versions/$$full/bin/python$$v"; \
		fi; \
		[ -n "$$py" ] && [ -x "$$py" ] || { echo "Python $$v is not installed: pyenv install $$v, or set OTHER_PYTHONS"; exit 2; }; \
		echo "== the suite on Python $$v ($$py)"; \
		$(MAKE) --no-print-directory PYTHON="$$py" VENV=.venv-$$v setup || exit $$?; \
		.venv-$$v/bin/python -m pytest -q || exit $$?; \
	done

clean:
	rm -rf $(VENV) .venv-3.* build dist .pytest_cache
