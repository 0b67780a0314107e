# The two commands of the README.  Each creates the virtual environment it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
IMAGE ?= ghcr.io/xuncha/xuncha:$(VERSION)
BUILDAH ?= buildah --storage-driver vfs

.PHONY: run test test-e2e test-image image print-image dist format bench clean

$(BIN)/xuncha: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

run: $(BIN)/xuncha        ## the agent on the embedded demo fleet (loopback, SQLite state)
	$(BIN)/xuncha demo

test: $(BIN)/xuncha       ## lint, types and the whole test suite
	$(BIN)/ruff format --check agent domain probes dashboards tests bench
	$(BIN)/ruff check agent domain probes dashboards tests bench
	$(BIN)/mypy agent domain probes dashboards
	$(BIN)/pytest -q

test-e2e: $(BIN)/xuncha   ## only the slow end-to-end tests
	$(BIN)/pytest -q -m e2e

test-image: $(BIN)/xuncha ## the image and the offline bundle, built and exercised (buildah, debootstrap, the package index)
	$(BIN)/pytest -q -m image

# Built with buildah (no Docker engine needed).  Where the official python image cannot be
# pulled, deploy/container/standin-base.sh makes an equivalent from Debian's packages, once.
image:                    ## the container image $(IMAGE)
	deploy/container/standin-base.sh
	$(BUILDAH) bud --quiet --isolation chroot --network host --pull-never --format docker --layers=false \
	  --build-arg VERSION=$(VERSION) --build-arg REVISION=$$(git rev-parse HEAD) \
	  --build-arg CREATED=$$(date -u +%FT%TZ) -t $(IMAGE) -f Dockerfile .
	-$(BUILDAH) rmi --prune >/dev/null 2>&1  # the previous build, untagged: vfs keeps every layer whole

print-image:              ## the image name the Kubernetes manifests must name (tests/test_deploy.py)
	@echo $(IMAGE)

dist: $(BIN)/xuncha image ## dist/xuncha-$(VERSION)-offline.tar.gz: wheels (x86_64, aarch64), image, deploy files
	deploy/offline/make-dist.sh $(VERSION) $(IMAGE)

format: $(BIN)/xuncha     ## format the code as make test expects it
	$(BIN)/ruff format agent domain probes dashboards tests bench

bench: $(BIN)/xuncha
	$(BIN)/python bench/probe_cpu.py

clean:
	rm -rf $(VENV) data dist .pytest_cache .mypy_cache .ruff_cache
