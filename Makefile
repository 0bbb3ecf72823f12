# OpenCES: build, test and demo entry points (GNU make, Debian 12, run as root
# on a fresh machine or as a user with sudo).
#
#   make demo    install packages, release build, run the demo server (foreground)
#   make check   install packages, release build (-Werror, hardened), sanitizer +
#                fuzz build (clang, ASan+UBSan, libFuzzer), run every test
#   make fuzz    longer local fuzzing with kept corpora (FUZZ_SECONDS per target)
#   make bench   load benchmark against a demo server (see docs/PERFORMANCE.md)
#   make clean   remove the build directories (keeps ./demo and fuzz corpora)

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
MAKEFLAGS += --no-print-directory
.DEFAULT_GOAL := build

RELEASE_DIR  ?= build/release
CHECK_DIR    ?= build/check
CTEST_JOBS   ?= 2
FUZZ_SECONDS ?= 300
FUZZ_JOBS    ?= $(shell nproc)
DEMO_DIR     ?= ./demo
DEMO_LISTEN  ?= 127.0.0.1:8443

.PHONY: all deps build build-check demo check fuzz bench clean

all: build

deps:
	@scripts/install-deps.sh

# gcc release build: hardening flags come from CMakeLists.txt, warnings are errors.
# CC only matters when the directory is configured for the first time.
build: deps
	CC=gcc cmake -S . -B $(RELEASE_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release \
	  -DOC_WERROR=ON -DOC_SANITIZE=OFF -DOC_FUZZ=OFF
	ninja -C $(RELEASE_DIR)

# Test build: clang, ASan+UBSan, coverage instrumentation everywhere and
# libFuzzer targets (registered as CTest tests with label "fuzz").
build-check: deps
	CC=clang cmake -S . -B $(CHECK_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DOC_WERROR=ON -DOC_SANITIZE=ON -DOC_FUZZ=ON
	ninja -C $(CHECK_DIR)

# opencesd prints the CEP URL, where the CA certificate and the demo password are.
demo: build
	exec $(RELEASE_DIR)/src/opencesd demo --dir $(DEMO_DIR) --listen $(DEMO_LISTEN)

# The release build proves the hardened build compiles with -Werror; the tests
# run in the sanitizer build. CTest's summary is the last thing printed.
check: build build-check
	ctest --test-dir $(CHECK_DIR) --output-on-failure -j$(CTEST_JOBS) --no-label-summary

fuzz: build-check
	scripts/fuzz.sh --seconds $(FUZZ_SECONDS) --jobs $(FUZZ_JOBS) $(CHECK_DIR)

bench: build
	bench/run.sh $(RELEASE_DIR)

clean:
	rm -rf $(RELEASE_DIR) $(CHECK_DIR) build/fuzz-run
