# Top-level driver for the CMake build. See README.md.
#   make        build into build/ (build/sipd, build/sipua, build/libsip.a, build/libsip.so)
#   make run    build and start sipd on its embedded default
#   make test   install missing packages, build (normal + ASan/UBSan), run every test
#   make bench  build and run the benchmarks in bench/
JOBS ?= $(shell nproc)
BUILD_TYPE ?= RelWithDebInfo
CMAKE_FLAGS ?=

.PHONY: all build deps run test test-unit test-asan test-tsan bench format clean

all: build

deps:
	@./scripts/deps

build/CMakeCache.txt:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

build: build/CMakeCache.txt
	cmake --build build -j$(JOBS)

run: deps build
	./build/sipd $(ARGS)

# The normal build runs the unit and end-to-end tests (the binaries `make run`
# and users run: under ASan the transaction pool hands each object to malloc,
# so only this build runs the real slab pool end to end); the ASan+UBSan build
# (clang, with the libFuzzer targets) runs everything: unit, fuzz and
# end-to-end tests; the TSan build (instrumented differently again: it caught
# an uninitialized result the other two builds happened to read as 0) runs
# the unit tests.
test: deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DSIP_WERROR=ON $(CMAKE_FLAGS)
	cmake --build build -j$(JOBS)
	cd build && ctest --output-on-failure -j$(JOBS) -L 'unit|interop'
	$(MAKE) test-asan
	$(MAKE) test-tsan

test-asan:
	cmake -S . -B build-asan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
	  -DSIP_WERROR=ON -DSIP_SANITIZE=ON -DSIP_FUZZ=ON -DSIP_BENCH=OFF $(CMAKE_FLAGS)
	cmake --build build-asan -j$(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j$(JOBS)

# ThreadSanitizer over the tests labelled "threads" (multi-threaded code).
test-tsan:
	cmake -S . -B build-tsan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
	  -DSIP_WERROR=ON -DSIP_TSAN=ON -DSIP_BENCH=OFF $(CMAKE_FLAGS)
	cmake --build build-tsan -j$(JOBS)
	cd build-tsan && ctest --output-on-failure -L unit --no-tests=ignore

bench: deps build
	@for b in build/bench/*; do [ "$${b##*/}" = floor ] && continue; [ -x "$$b" ] && [ -f "$$b" ] && { echo "== $$b"; "$$b"; }; done; \
	for s in bench/*.sh; do [ -f "$$s" ] && { echo "== $$s"; bash "$$s" build; }; done; true

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-tsan
