# Tiny test guests: every tests/guest/g_NAME.c becomes build/guests/NAME.elf, a PVH ELF
# kernel linked with the runtime in tests/guest/rt/. Included by the top-level Makefile;
# guests never use the host CFLAGS or sanitizers and always go to build/guests/.

GUEST_DIR    := tests/guest
GUEST_OUT    := build/guests
GUEST_CC     ?= gcc
GUEST_LD     ?= ld
GUEST_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-builtin -nostdlib -fno-pic -fno-pie \
	-mno-red-zone -mgeneral-regs-only -mno-sse -mno-mmx -mcmodel=small \
	-fno-stack-protector -fcf-protection=none -fno-asynchronous-unwind-tables \
	-fno-tree-loop-distribute-patterns -fno-common -fno-delete-null-pointer-checks \
	-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror \
	-I$(GUEST_DIR)/rt -MMD -MP
GUEST_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments \
	-T $(GUEST_DIR)/rt/guest.ld

GUEST_SRCS   := $(sort $(wildcard $(GUEST_DIR)/g_*.c))
GUEST_NAMES  := $(GUEST_SRCS:$(GUEST_DIR)/g_%.c=%)
GUEST_ELFS   := $(GUEST_NAMES:%=$(GUEST_OUT)/%.elf)
GUEST_RT_SRC := $(sort $(wildcard $(GUEST_DIR)/rt/*.c) $(wildcard $(GUEST_DIR)/rt/*.S))
GUEST_RT_OBJ := $(patsubst $(GUEST_DIR)/rt/%,$(GUEST_OUT)/obj/rt/%.o,$(GUEST_RT_SRC))
GUEST_OBJ    := $(GUEST_NAMES:%=$(GUEST_OUT)/obj/g_%.c.o)

guests: $(GUEST_ELFS)

$(GUEST_RT_OBJ): $(GUEST_OUT)/obj/rt/%.o: $(GUEST_DIR)/rt/% $(GUEST_DIR)/guest.mk
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_OBJ): $(GUEST_OUT)/obj/%.o: $(GUEST_DIR)/% $(GUEST_DIR)/guest.mk
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_ELFS): $(GUEST_OUT)/%.elf: $(GUEST_OUT)/obj/g_%.c.o $(GUEST_RT_OBJ) $(GUEST_DIR)/rt/guest.ld
	$(GUEST_LD) $(GUEST_LDFLAGS) -o $@ $(GUEST_RT_OBJ) $<

.PHONY: guests
-include $(GUEST_RT_OBJ:.o=.d) $(GUEST_OBJ:.o=.d)
