# Domus build. `make` builds the VMM, the CLI and the tiny test guests;
# `make SAN=1` builds with ASan+UBSan into build-san/.
CC      ?= gcc
SAN     ?= 0
ifeq ($(SAN),1)
B       := build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
B       := build
SANFLAGS :=
endif

WARN    := -Wall -Wextra -Wshadow -Wcast-qual -Wstrict-prototypes -Wmissing-prototypes -Werror
CFLAGS  := -std=gnu11 -O2 -g $(WARN) $(SANFLAGS) -Isrc -D_GNU_SOURCE -MMD -MP
LDFLAGS := $(SANFLAGS) -pthread
LIBS    := -ljson-c -luring -lz

# Every .c under src/ except the programs' main files goes into libdomus.a.
MAINS   := src/cli/main.c src/manager/domusd_main.c
LIBSRC  := $(filter-out $(MAINS),$(shell find src -name '*.c' | sort))
LIBOBJ  := $(LIBSRC:%.c=$(B)/%.o)
UNITSRC := $(sort $(wildcard tests/unit/test_*.c))
UNITBIN := $(UNITSRC:tests/unit/%.c=$(B)/tests/%)

all: $(B)/domus $(B)/domusd guests

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(B)/libdomus.a: $(LIBOBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/domus: $(B)/src/cli/main.o $(B)/libdomus.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/domusd: $(B)/src/manager/domusd_main.o $(B)/libdomus.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lmicrohttpd

$(B)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(B)/libdomus.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $< -o $@ $(LDFLAGS) $(B)/libdomus.a $(LIBS)

unit: $(UNITBIN)
	@tools/check-layers.py
	@set -e; for t in $(UNITBIN); do $$t; done

# The whole test suite: unit tests (plain and ASan+UBSan), then guest boots with the
# sanitized monitor.
check: all
	@echo "== host virtualization as Domus sees it"; $(B)/domus info || true
	$(MAKE) unit
	$(MAKE) SAN=1 build-san/domus build-san/domusd unit
	$(MAKE) fuzz FUZZ_SECONDS=20
	DOMUS_SAN=1 tools/run-functional.sh $(PYTEST_ARGS)

# The part of the suite that needs neither KVM nor root, in a few minutes: unit tests (plain and
# ASan+UBSan), the CLI's bad-input tests that stop before /dev/kvm (pytest -m "not kvm"), and
# the tiny test guests under QEMU TCG (tests/guest/qemu_check.py).
check-fast: all
	$(MAKE) unit
	$(MAKE) SAN=1 build-san/domus unit
	DOMUS_SAN=1 /usr/bin/python3 -m pytest -c tests/functional/pytest.ini -p no:cacheprovider -q \
		-m "not kvm" tests/functional/test_bad_input.py
	tests/guest/qemu_check.py --accel tcg

# libFuzzer targets: tests/fuzz/fuzz_NAME.c, each linked with the library sources it names in
# its first line "FUZZ-SOURCES: dir/*.c ..." (default: all of src/ but the programs' mains).
FUZZSRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZBIN := $(FUZZSRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_SECONDS ?= 30
FUZZFLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc -D_GNU_SOURCE

build/fuzz/%: tests/fuzz/%.c $(LIBSRC)
	@mkdir -p $(dir $@)
	clang $(FUZZFLAGS) $< $(LIBSRC) -o $@ -pthread $(LIBS) -lmicrohttpd

fuzz: $(FUZZBIN)
	@set -e; for f in $(FUZZBIN); do \
		mkdir -p build/fuzz/corpus-$$(basename $$f); \
		echo "fuzz: $$f for $(FUZZ_SECONDS) s"; \
		if ! $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 \
			build/fuzz/corpus-$$(basename $$f) >build/fuzz/$$(basename $$f).log 2>&1; then \
			tail -40 build/fuzz/$$(basename $$f).log; echo "fuzz: $$f found a crash"; exit 1; \
		fi; tail -1 build/fuzz/$$(basename $$f).log; \
	done

include tests/guest/guest.mk

clean:
	rm -rf build build-san

.PHONY: all unit clean guests check check-fast fuzz
-include $(LIBOBJ:.o=.d)
