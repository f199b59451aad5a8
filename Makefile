# Thin wrapper around CMake, ctest and npm. `make help` lists the targets.
# Each recipe runs as one bash script (.ONESHELL) with -euo pipefail.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:
.NOTPARALLEL:
.DEFAULT_GOAL := help

BUILD_DIR ?= build
SANITIZE_DIR ?= build-sanitize
JOBS      ?= 2
PREFIX    ?= /usr/local
DESTDIR   ?=

# `make run` and `make demo` listen on LISTEN (PORT on loopback unless given); each keeps its own
# database and admin socket, so the demo's fake key never lands in the development data.
# SKIP_BUILD=1 starts what is already built.
PORT         ?= 8080
LISTEN       ?= 127.0.0.1:$(PORT)
DEV_CONF     := etc/chatd.dev.conf
DEV_URL      := http://$(subst 0.0.0.0:,127.0.0.1:,$(LISTEN))
DEV_SOCKET   := var/admin.sock
DEMO_DIR     := var/demo
DEMO_SOCKET  := $(DEMO_DIR)/admin.sock
CHATD        := $(BUILD_DIR)/chatd
CHATCTL      := $(BUILD_DIR)/chatctl
FAKE_UPSTREAM ?= $(BUILD_DIR)/fake_upstream
FAKE_PORT    ?= 18081
FAKE_LISTEN  := 127.0.0.1:$(FAKE_PORT)
FAKE_UPSTREAM_ARGS ?= --listen $(FAKE_LISTEN)
DEMO_KEY     := sk-demo:demo:delay=30
# `make fuzz`: seconds per libFuzzer target (tests/fuzz/README.md); `make test` gives each 20.
FUZZ_SECONDS ?= 300

# Debian 12 packages. Boost is pinned to 1.81: the unversioned libboost-dev is 1.74 and
# conflicts with it. Node and npm may come from elsewhere; Debian's are the fallback.
DEB_PACKAGES := build-essential clang cmake ninja-build pkg-config \
	libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev \
	libsqlitecpp-dev libspdlog-dev catch2 libssl-dev libargon2-dev libpoppler-cpp-dev libpq-dev \
	python3 curl ca-certificates sqlite3 \
	$(if $(shell command -v node),,nodejs) $(if $(shell command -v npm),,npm)
DEB_TEST_PACKAGES := chromium fonts-noto-cjk procps python3-cryptography postgresql libclang-rt-14-dev

# apt_install PACKAGES: installs those not yet installed; without apt-get when none are missing.
define apt_install
installed=$$(dpkg-query -W -f='$${Status} $${Package}\n' $(1) 2>/dev/null | sed -n 's/^install ok installed //p' || true)
missing=
for pkg in $(1); do
	grep -qxF "$$pkg" <<<"$$installed" || missing="$$missing $$pkg"
done
if [ -n "$$missing" ]; then
	if [ "$$(id -u)" -eq 0 ]; then as_root=
	elif command -v sudo >/dev/null; then as_root=sudo
	else echo "Missing packages:$$missing (run as root or install sudo)" >&2; exit 1
	fi
	echo "==> Installing:$$missing"
	$$as_root apt-get update
	$$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing
fi
endef

# npm_ci DIR: installs DIR's node_modules when missing or older than its package-lock.json.
define npm_ci
if [ -f $(1)/package-lock.json ] && { [ ! -d $(1)/node_modules ] || [ $(1)/package-lock.json -nt $(1)/node_modules ]; }; then
	echo "==> npm ci in $(1)"
	(cd $(1) && npm ci --no-audit --no-fund)
	mkdir -p $(1)/node_modules && touch $(1)/node_modules
fi
endef

# Shell helpers for the recipes that run chatd in the background.
define sh_helpers
# wait_ready URL PID NAME [CURL_FLAGS]: until URL answers; fails if PID exits or after 30 s.
wait_ready() {
	for _ in $$(seq 150); do
		curl $${4:--fs} -o /dev/null "$$1" && return 0
		kill -0 "$$2" 2>/dev/null || { echo "$$3 exited before it was ready" >&2; return 1; }
		sleep 0.2
	done
	echo "$$3 did not answer on $$1 within 30 s" >&2
	return 1
}
# refuse_busy ADDRESS TARGET [SOCKET]: stops with a clear message when something already answers
# on ADDRESS (host:port) or on the admin SOCKET, before anything is started or touched.
refuse_busy() {
	local host=$${1%:*} port=$${1##*:}
	[ "$$host" = 0.0.0.0 ] && host=127.0.0.1
	if (exec 3<>"/dev/tcp/$$host/$$port") 2>/dev/null; then
		echo "make $$2: $$1 is already in use (is \`make run\` or \`make demo\` running?)." >&2
		echo "Stop it first, or choose another port: make $$2 PORT=8090" >&2
		exit 1
	fi
	if [ -n "$${3:-}" ] && [ -S "$$3" ] && curl -s -o /dev/null --max-time 2 --unix-socket "$$3" http://chatd/healthz; then
		echo "make $$2: another chatd is serving the admin socket $$3; stop it first." >&2
		exit 1
	fi
}
# wait_chatd: waits for chatd to exit, also after a forwarded signal interrupted `wait`.
wait_chatd() {
	local status=0
	wait "$$chatd" || status=$$?
	while kill -0 "$$chatd" 2>/dev/null; do
		status=0
		wait "$$chatd" || status=$$?
	done
	return "$$status"
}
endef

.PHONY: help deps test-deps webui build run test test-sanitize fuzz install demo bench chaos soak clean

help:
	@printf '%s\n' "chatd — self-hosted AI chat service" "" \
		"  make run      install packages, build, start chatd on $(DEV_URL) ($(DEV_CONF))" \
		"  make test     build and run every test (unit, integration, browser e2e) with ctest," \
		"               then each fuzz target for 20 s" \
		"  make test-sanitize  build in $(SANITIZE_DIR)/ with AddressSanitizer and UBSan and run" \
		"               the unit and integration tests (not the PostgreSQL duplicates); any report fails" \
		"  make build    install packages and build $(CHATD), $(CHATCTL) and webui/dist" \
		"  make demo     like run, answered by a built-in fake upstream (no API key needed;" \
		"               its own database and socket in $(DEMO_DIR)/)" \
		"  make fuzz     build the libFuzzer targets (build-fuzz/), run each for FUZZ_SECONDS=$(FUZZ_SECONDS)" \
		"               and merge what adds coverage into tests/fuzz/corpus/" \
		"  make bench    run the streaming benchmark (tests/bench/run_bench.py)" \
		"  make chaos    ROUNDS (default 50) rounds of load, each hit by a fault, checked against the" \
		"               invariants (tests/chaos/); BACKEND=postgres runs them on a private PostgreSQL" \
		"  make soak     HOURS (default 1) of steady load; RSS, open files, threads and database size" \
		"               printed every minute must stay flat" \
		"  make install  install under PREFIX=$(PREFIX) (DESTDIR honoured)" \
		"  make deps     install the missing Debian 12 packages (as root or through sudo)" \
		"  make clean    remove $(BUILD_DIR)/ and webui/dist (keeps var/, the dev database)" "" \
		"  OPENAI_API_KEY=sk-… [OPENAI_BASE_URL=https://…/v1] [OPENAI_MODEL=name] make run" \
		"               adds that key on start (and offers that model as the default)" \
		"  PORT=8090 make run|demo, or LISTEN=0.0.0.0:8090: another address (default $(LISTEN))"

deps:
	@$(call apt_install,$(DEB_PACKAGES))

test-deps: deps
	@$(call apt_install,$(DEB_TEST_PACKAGES))

webui: deps
	@$(call npm_ci,webui)

build: deps webui
	@# clang: GCC 12 miscompiles some coroutine code (temporaries in co_await expressions).
	[ -f $(BUILD_DIR)/build.ninja ] || CC=clang CXX=clang++ cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD_DIR) -j$(JOBS)
	echo "==> npm run build in webui"
	(cd webui && npm run build && node scripts/precompress.mjs)

run: $(if $(SKIP_BUILD),,build)
	@$(sh_helpers)
	refuse_busy $(LISTEN) run $(DEV_SOCKET)
	mkdir -p var
	echo
	echo "chatd: open $(DEV_URL)"
	echo "Create an admin:  $(CHATCTL) -s $(DEV_SOCKET) admin add NAME"
	echo "Stop with Ctrl-C."
	echo
	if [ -z "$${OPENAI_API_KEY:-}" ]; then
		exec $(CHATD) --config $(DEV_CONF) --listen $(LISTEN)
	fi
	$(CHATD) --config $(DEV_CONF) --listen $(LISTEN) &
	chatd=$$!
	trap 'kill -TERM "$$chatd" 2>/dev/null || true' INT TERM
	trap 'kill -TERM "$$chatd" 2>/dev/null || true' EXIT
	wait_ready $(DEV_URL)/healthz "$$chatd" chatd
	# The key goes through stdin: on the command line it would show in ps.
	if printf '%s\n' "$$OPENAI_API_KEY" |
		$(CHATCTL) -s $(DEV_SOCKET) keys add $${OPENAI_BASE_URL:+--base-url "$$OPENAI_BASE_URL"} - >/dev/null; then
		echo "==> Added OPENAI_API_KEY to the key pool$${OPENAI_BASE_URL:+ ($$OPENAI_BASE_URL)}"
	else
		echo "warning: could not add OPENAI_API_KEY to the key pool" >&2
	fi
	if [ -n "$${OPENAI_MODEL:-}" ]; then
		$(CHATCTL) -s $(DEV_SOCKET) models set "$$OPENAI_MODEL" >/dev/null
		$(CHATCTL) -s $(DEV_SOCKET) settings set chat.default_model "$$OPENAI_MODEL" >/dev/null
		echo "==> Model $$OPENAI_MODEL offered and made the default"
	fi
	wait_chatd

test: test-deps build
	@$(call npm_ci,tests/e2e)
	@$(call npm_ci,tests/integration/openai_client)
	ctest --test-dir $(BUILD_DIR) --output-on-failure --no-tests=error -j$(JOBS)
	python3 tests/fuzz/run.py --seconds 20 --jobs $(JOBS)

fuzz: test-deps
	@python3 tests/fuzz/run.py --seconds $(FUZZ_SECONDS) --keep --jobs $(JOBS)

# The sanitized build (CHATD_SANITIZE: -fsanitize=address,undefined at -O0). Every
# finding halts its process, and its report goes to $(SANITIZE_DIR)/sanitizer-reports/report.<pid>:
# the harness fails the test whose chatd wrote one, and any report left there fails the run, also
# one from a process whose test passed anyway. The PostgreSQL duplicates of the integration
# suites (label postgres) and the browser tests are left out to keep CI's time; the PostgreSQL
# code still runs in unit_store_postgres and the test_postgres* suites.
SANITIZE_TARGETS := chatd chatctl chatctl_completion fake_upstream unit_upstream unit_core
test-sanitize: test-deps
	@[ -f $(SANITIZE_DIR)/build.ninja ] || CC=clang CXX=clang++ cmake -S . -B $(SANITIZE_DIR) -G Ninja \
		-DCMAKE_BUILD_TYPE=Debug -DCHATD_SANITIZE=ON
	cmake --build $(SANITIZE_DIR) -j$(JOBS) --target $(SANITIZE_TARGETS)
	reports=$$PWD/$(SANITIZE_DIR)/sanitizer-reports
	rm -rf "$$reports" && mkdir -p "$$reports"
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1:log_path=$$reports/report
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$$reports/report
	status=0
	ctest --test-dir $(SANITIZE_DIR) --output-on-failure --no-tests=error -j$(JOBS) \
		-L 'unit|integration' -LE postgres || status=$$?
	for report in "$$reports"/*; do
		[ -e "$$report" ] || continue
		echo "==> sanitizer report $$report"
		cat "$$report"
		status=1
	done
	exit "$$status"

install: build
	@DESTDIR="$(DESTDIR)" cmake --install $(BUILD_DIR) --prefix "$(PREFIX)"

# The demo keeps its own database and admin socket ($(DEMO_DIR)): the fake key never lands in the
# development data, and chatctl reaches the demo only through -s $(DEMO_SOCKET).
demo: $(if $(SKIP_BUILD),,build)
	@$(sh_helpers)
	refuse_busy $(LISTEN) demo $(DEMO_SOCKET)
	refuse_busy $(FAKE_LISTEN) demo
	mkdir -p $(DEMO_DIR)
	$(FAKE_UPSTREAM) $(FAKE_UPSTREAM_ARGS) &
	fake=$$!
	trap 'kill -TERM "$$fake" 2>/dev/null || true' EXIT
	wait_ready http://$(FAKE_LISTEN)/ "$$fake" fake_upstream -s
	$(CHATD) --config $(DEV_CONF) --listen $(LISTEN) --data-dir $(DEMO_DIR) --admin-socket $(DEMO_SOCKET) &
	chatd=$$!
	trap 'kill -TERM "$$chatd" 2>/dev/null || true' INT TERM
	trap 'kill -TERM "$$chatd" "$$fake" 2>/dev/null || true' EXIT
	wait_ready $(DEV_URL)/healthz "$$chatd" chatd
	# Once: a restarted demo keeps its key (and the answers it gave).
	if ! $(CHATCTL) -s $(DEMO_SOCKET) --json keys list | grep -q '"base_url": *"http://$(FAKE_LISTEN)/v1"'; then
		printf '%s\n' '$(DEMO_KEY)' |
			$(CHATCTL) -s $(DEMO_SOCKET) keys add --base-url http://$(FAKE_LISTEN)/v1 - >/dev/null
	fi
	echo
	echo "========================================================================"
	echo "DEMO MODE: answers come from a built-in fake upstream, not a real model"
	echo "========================================================================"
	echo "chatd: open $(DEV_URL) and sign up with a username and password"
	echo "Create an admin (then sign in at $(DEV_URL)/admin):"
	echo "  $(CHATCTL) -s $(DEMO_SOCKET) admin add NAME"
	echo "Stop with Ctrl-C."
	wait_chatd

bench: build
	@python3 tests/bench/run_bench.py --build $(BUILD_DIR)

ROUNDS  ?= 50
HOURS   ?= 1
BACKEND ?= sqlite
CHAOS_ENV := CHATD_BIN=$(CHATD) CHATCTL_BIN=$(CHATCTL) FAKE_UPSTREAM_BIN=$(FAKE_UPSTREAM) PYTHONDONTWRITEBYTECODE=1
ON_BACKEND := $(if $(filter postgres,$(BACKEND)),python3 tests/support/pg_server.py --run,)

chaos: test-deps build
	@$(CHAOS_ENV) $(ON_BACKEND) python3 tests/chaos/chaos.py --rounds $(ROUNDS)

soak: test-deps build
	@$(CHAOS_ENV) $(ON_BACKEND) python3 tests/chaos/soak.py --seconds $$(python3 -c 'print(float("$(HOURS)") * 3600)') --interval 60

clean:
	@rm -rf $(BUILD_DIR) webui/dist
