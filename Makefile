# dsinfer: `make test` builds everything and runs every test; see README.md.
# Build folders: build/ (Release), build-asan/ (clang, ASan+UBSan, fuzzers), build-clang/, build-lint/.

JOBS ?= $(shell nproc)
# WERROR=ON|OFF reaches a build folder only when given (command line or environment): otherwise
# the folder keeps the value it was configured with, so `make asan WERROR=ON` then `make fuzz`
# does not reconfigure build-asan and recompile it with other warning flags.
WERROR_FLAG = $(if $(filter command line environment,$(origin WERROR)),-DDSINFER_WERROR=$(WERROR))
FUZZ_SECONDS ?= 60
CMAKE_FLAGS ?=

.PHONY: all deps build serve test asan clang fuzz bench lint clean

all: build

deps:
	bash scripts/install-deps.sh

build: deps
	cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release $(WERROR_FLAG) $(CMAKE_FLAGS)
	cmake --build build -j $(JOBS)

# The server on the default model at http://127.0.0.1:$(PORT) (scripts/serve-default.sh).
PORT ?= 8080
serve: build
	PORT=$(PORT) bash scripts/serve-default.sh

test: build
	cd build && ctest --output-on-failure -j $(JOBS) --timeout 600

# One clang build (build-asan) with ASan + UBSan, and libFuzzer's coverage instrumentation in the
# layers the fuzzers call (DSINFER_FUZZED_LAYERS), serves both the unit tests (`make asan`) and
# the fuzzers (`make fuzz`): CI compiles the tree with sanitizers once, not twice. clang compiles
# this tree ~3x faster than GCC does with sanitizers, and CI then needs no separate clang build to
# prove the tree compiles with both compilers (GCC builds `make test`).
ASAN_CONFIGURE = cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_COMPILER=clang++ $(WERROR_FLAG) -DDSINFER_SANITIZE=address,undefined \
	  -DDSINFER_BUILD_FUZZ=ON -DDSINFER_BUILD_BENCH=OFF $(CMAKE_FLAGS)

asan: deps
	$(ASAN_CONFIGURE)
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) -L unit --timeout 900

# The whole tree must also compile (and its unit tests pass) with clang.
clang: deps
	cmake -S . -B build-clang -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ \
	  $(WERROR_FLAG) -DDSINFER_BUILD_BENCH=OFF $(CMAKE_FLAGS)
	cmake --build build-clang -j $(JOBS)
	cd build-clang && ctest --output-on-failure -j $(JOBS) -L unit --timeout 600

# libFuzzer on every parser of untrusted bytes, FUZZ_SECONDS each, seeded from tests/data.
fuzz: deps
	$(ASAN_CONFIGURE)
	cmake --build build-asan -j $(JOBS) --target fuzzers
	bash scripts/run-fuzzers.sh build-asan $(FUZZ_SECONDS)

bench: build
	bash scripts/run-benchmarks.sh build

# clang-format on every C++ file; clang-tidy on files changed recently (see scripts/lint.sh).
# clang-tidy needs only the compile database, so lint configures its own folder, builds nothing
# (and no precompiled header: clang-tidy cannot read GCC's, and parses each file whole), and
# lists every file on its own rather than in unity batches.
lint: deps
	cmake -S . -B build-lint -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
	  -DCMAKE_DISABLE_PRECOMPILE_HEADERS=ON -DDSINFER_UNITY_BUILD=OFF \
	  $(CMAKE_FLAGS) > /dev/null
	bash scripts/lint.sh build-lint

clean:
	rm -rf build build-asan build-clang build-lint
