/* Firmware boot (FV guests): a BIOS image such as SeaBIOS's bios-256k.bin, mapped read-only
 * just below 4 GiB as on a PC's flash, with its last 128 KiB also copied into RAM at 0xE0000
 * (the legacy BIOS segment, RAM here: the firmware may shadow itself there). The vCPU starts
 * at the reset vector F000:FFF0, KVM's power-on state, so nothing else is set up. */
#ifndef DOMUS_FIRMWARE_H
#define DOMUS_FIRMWARE_H
#include <stddef.h>
#include <stdint.h>

#define FIRMWARE_MIN (64u << 10)
#define FIRMWARE_MAX (16u << 20)
#define FIRMWARE_LOW_ALIAS 0xE0000u  /* the last 128 KiB appear here */
#define FIRMWARE_LOW_ALIAS_LEN (128u << 10)

struct firmware {
	uint8_t *image; /* page-aligned private copy, mapped as the ROM */
	size_t len;
	uint64_t gpa; /* 4 GiB - len */
};

/* Read and check an image from path: a multiple of 64 KiB between 64 KiB and 16 MiB, with a
 * far jump (0xEA) or near jump (0xE9/0xEB) at the reset vector 16 bytes from its end.
 * 0, or -1 with the reason in err. */
int firmware_load(struct firmware *fw, const char *path, char *err, size_t errlen);
/* Check an image in memory (used by firmware_load and by tests). 0 or -1 with err. */
int firmware_check(const uint8_t *img, size_t len, char *err, size_t errlen);
/* Copy the low alias into guest RAM at 0xE0000 (ram is that low RAM; ram_len its size). */
int firmware_copy_low(const struct firmware *fw, uint8_t *ram, uint64_t ram_len);
void firmware_free(struct firmware *fw);

#endif
