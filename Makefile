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
LIBS    := -lz

# Every .c under src/ except the programs' main files goes into libdomus.a.
MAINS   := src/cli/main.c
LIBSRC  := $(filter-out $(MAINS),$(shell find src -name '*.c' | sort))
LIBOBJ  := $(LIBSRC:%.c=$(B)/%.o)
UNITSRC := $(sort $(wildcard tests/unit/test_*.c))
UNITBIN := $(UNITSRC:tests/unit/%.c=$(B)/tests/%)

all: $(B)/domus guests

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(B)/libdomus.a: $(LIBOBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/domus: $(B)/src/cli/main.o $(B)/libdomus.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/tests/%: tests/unit/%.c tests/unit/unit.h $(B)/libdomus.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $< -o $@ $(LDFLAGS) $(B)/libdomus.a $(LIBS)

unit: $(UNITBIN)
	@set -e; for t in $(UNITBIN); do $$t; done

# The whole test suite: unit tests (plain and ASan+UBSan), then guest boots with the
# sanitized monitor.
check: all
	@echo "== host virtualization as Domus sees it"; $(B)/domus info || true
	$(MAKE) unit
	$(MAKE) SAN=1 build-san/domus unit
	DOMUS_SAN=1 tools/run-functional.sh $(PYTEST_ARGS)

include tests/guest/guest.mk

clean:
	rm -rf build build-san

.PHONY: all unit clean guests check
-include $(LIBOBJ:.o=.d)
