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
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

# A real diagnosis of a real local target: a loopback port where nothing listens, with the
# answers a person would give. Exit 1 means "problem found", which is the point of the demo.
demo: setup
	@port=$$($(BIN)/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'); \
	printf 'deployment: on_premises\nworks_elsewhere: "no"\n' > $(VENV)/demo-answers.yaml; \
	echo "\$$ mailtriage diagnose --host 127.0.0.1 --port $$port --security none --answers $(VENV)/demo-answers.yaml --non-interactive"; \
	$(BIN)/mailtriage diagnose --host 127.0.0.1 --port $$port --security none \
		--answers $(VENV)/demo-answers.yaml --non-interactive --timeout 3; \
	rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 1 ]

test: setup
	$(BIN)/mailtriage knowledge lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build dist .pytest_cache
