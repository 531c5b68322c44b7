#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "boot/firmware.h"

static void test_check(void)
{
	char err[256];
	uint8_t *img = calloc(1, 256 << 10);
	CHECK_EQ(firmware_check(img, 256 << 10, err, sizeof(err)), -1); /* no reset jump */
	img[(256 << 10) - 16] = 0xEA;
	CHECK_EQ(firmware_check(img, 256 << 10, err, sizeof(err)), 0);
	CHECK_EQ(firmware_check(img, 100000, err, sizeof(err)), -1); /* not a multiple of 64 KiB */
	CHECK_EQ(firmware_check(img, 32 << 10, err, sizeof(err)), -1);
	free(img);
}

static void test_load_and_low_copy(void)
{
	char path[] = "/tmp/domus-bios-XXXXXX";
	int fd = mkstemp(path);
	uint8_t *img = calloc(1, 256 << 10);
	for (size_t i = 0; i < (256 << 10); i++)
		img[i] = (uint8_t)(i >> 12);
	img[(256 << 10) - 16] = 0xEA;
	CHECK_EQ(write(fd, img, 256 << 10), 256 << 10);
	close(fd);
	struct firmware fw;
	char err[256];
	CHECK_EQ(firmware_load(&fw, path, err, sizeof(err)), 0);
	CHECK_EQ(fw.gpa, 0xFFFC0000ull);
	CHECK_EQ(fw.len, 256 << 10);
	uint8_t *ram = calloc(1, 0x100000);
	CHECK_EQ(firmware_copy_low(&fw, ram, 0x100000), 0);
	/* the last 128 KiB of the image sit at 0xE0000-0xFFFFF */
	CHECK_EQ(ram[0xE0000], img[128 << 10]);
	CHECK_EQ(ram[0xFFFF0], 0xEA);
	CHECK_EQ(ram[0xDFFFF], 0);
	CHECK_EQ(firmware_copy_low(&fw, ram, 0x80000), -EINVAL);
	firmware_free(&fw);
	unlink(path);
	CHECK_EQ(firmware_load(&fw, "/nonexistent/bios.bin", err, sizeof(err)), -1);
	CHECK(strstr(err, "seabios") != NULL);
	free(ram);
	free(img);
}

UNIT_MAIN(test_check, test_load_and_low_copy)
