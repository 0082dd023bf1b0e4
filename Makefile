# Two commands matter: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint clean

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

test: setup
	$(BIN)/mailtriage knowledge lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build dist .pytest_cache
