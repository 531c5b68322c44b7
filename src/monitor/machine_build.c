/* struct domain_config → struct machine_config; see machine_build.h. */
#include "monitor/machine_build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/cmdline.h"
#include "lib/log.h"

#define MAX_KERNEL_BYTES (512ull << 20)

/* A whole regular file of at most max bytes; NULL with "what PATH: why" in err. */
static uint8_t *load(const char *what, const char *path, uint64_t max, size_t *len, char *err,
		     size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *buf = NULL;
	if (fd < 0) {
		errf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		errf(err, errlen, "%s %s: not a regular file", what, path);
	} else if ((uint64_t)st.st_size > max) {
		errf(err, errlen, "%s %s: too large (%lld bytes)", what, path,
		     (long long)st.st_size);
	} else if (!(buf = malloc(st.st_size ? (size_t)st.st_size : 1))) {
		errf(err, errlen, "%s %s: out of memory", what, path);
	} else {
		size_t got = 0;
		while (got < (size_t)st.st_size) {
			ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				errf(err, errlen, "%s %s: %s", what, path,
				     n < 0 ? strerror(errno) : "file shrank");
				free(buf);
				buf = NULL;
				break;
			}
			got += (size_t)n;
		}
		*len = got;
	}
	close(fd);
	return buf;
}

/* The kernel and initrd, and the command line this host needs for them. */
static int build_kernel(struct machine_build *b, const struct domain_config *dc,
			enum host_mode mode, char *err, size_t errlen)
{
	struct machine_config *mc = &b->mc;
	b->kernel = load("kernel", dc->kernel, MAX_KERNEL_BYTES, &mc->kernel_len, err, errlen);
	if (!b->kernel)
		return -1;
	mc->kernel = b->kernel;
	enum kernel_kind kind = kernel_detect(b->kernel, mc->kernel_len);
	if (kind != KERNEL_BZIMAGE && kind != KERNEL_PVH_ELF)
		return errf(err, errlen, "kernel %s: %s; Domus boots a bzImage (protocol 2.12+) "
			    "or a PVH ELF", dc->kernel, kernel_kind_name(kind));
	if (dc->ramdisk) {
		b->initrd = load("initrd", dc->ramdisk, dc->memory_mib << 20, &mc->initrd_len, err,
				 errlen);
		if (!b->initrd)
			return -1;
		mc->initrd = b->initrd;
	}
	int is_linux = kernel_is_linux(b->kernel, mc->kernel_len);
	const char *user = dc->cmdline ? dc->cmdline : (is_linux ? "console=ttyS0" : "");
	if (cmdline_for_guest(b->cmdline, sizeof(b->cmdline), user, mode, dc->vcpus, is_linux,
			      dc->pvm_aware, host_pic_routing(mode, getenv(HOST_FORCE_PIC_ENV))) < 0)
		return errf(err, errlen, "cmdline: too long");
	mc->cmdline = b->cmdline;
	/* An unmodified Linux on a PVM host: watch for its /init faulting (pvm_user_watch.h). */
	mc->watch_pvm_user = mode == HOST_PVM && is_linux && !dc->pvm_aware;
	return 0;
}

/* Disks: IDE drives on the FV PC (hvm, or a kernel with fv_devices), virtio-blk otherwise. */
static void build_disks(struct machine_build *b, const struct domain_config *dc, bool ide)
{
	for (size_t i = 0; i < dc->ndisks; i++) {
		const struct domcfg_disk *d = &dc->disks[i];
		if (ide)
			b->ide[b->mc.nide++] = (struct machine_ide){
				.path = d->target, .index = d->index, .cdrom = d->cdrom,
				.readonly = d->readonly || d->cdrom };
		else
			b->disks[b->mc.ndisks++] = (struct machine_disk){
				.path = d->target, .readonly = d->readonly,
				.name = d->serial ? d->serial : d->vdev };
	}
}

int machine_build(struct machine_build *b, const struct domain_config *dc, enum host_mode mode,
		  char *err, size_t errlen)
{
	bool fv = dc->type == DOMCFG_TYPE_HVM;
	memset(b, 0, sizeof(*b));
	struct machine_config *mc = &b->mc;
	mc->hvc_out = mc->hvc_in = -1;
	if (dc->ndisks > (fv || dc->fv_devices ? DOMUS_IDE_DRIVES : DOMUS_MAX_DISKS) ||
	    dc->nnics > DOMUS_MAX_NICS)
		return errf(err, errlen, "%s: too many disks or NICs", dc->name);
	mc->mem_bytes = dc->memory_mib << 20;
	mc->vcpus = dc->vcpus;
	mc->cpus = dc->cpus;
	mc->triple_fault_reset = dc->triple_fault_reset;
	mc->rng = dc->rng;
	mc->fv_devices = dc->fv_devices;
	if (fv) {
		mc->firmware = dc->bios_path ? dc->bios_path : FIRMWARE_DEFAULT;
		mc->boot_order = dc->boot;
	} else if (build_kernel(b, dc, mode, err, errlen) < 0) {
		machine_build_free(b);
		return -1;
	}
	build_disks(b, dc, fv || dc->fv_devices);
	mc->disks = b->disks;
	mc->ide = b->ide;
	for (size_t i = 0; i < dc->nnics; i++) {
		struct machine_nic *n = &b->nics[mc->nnics++];
		memcpy(n->mac, dc->nics[i].mac, sizeof(n->mac)); /* derived by domcfg_build */
		n->bridge = dc->nics[i].bridge;
		n->tap = dc->nics[i].vifname;
	}
	mc->nics = b->nics;
	b->hvc_output = dc->hvc_output;
	b->hvc_input = dc->hvc_input;
	return 0;
}

int machine_build_open_hvc(struct machine_build *b, char *err, size_t errlen)
{
	if (!b->hvc_output)
		return 0;
	b->mc.hvc_out = open(b->hvc_output, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (b->mc.hvc_out < 0)
		return errf(err, errlen, "hvc_output %s: %s", b->hvc_output, strerror(errno));
	if (!b->hvc_input)
		return 0;
	/* Read-write and non-blocking: a FIFO opens without a writer and never hits EOF. */
	b->mc.hvc_in = open(b->hvc_input, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (b->mc.hvc_in < 0)
		return errf(err, errlen, "hvc_input %s: %s", b->hvc_input, strerror(errno));
	return 0;
}

void machine_build_free(struct machine_build *b)
{
	free(b->kernel);
	free(b->initrd);
	b->kernel = b->initrd = NULL;
	b->mc.kernel = b->mc.initrd = NULL;
	if (b->mc.hvc_out >= 0)
		close(b->mc.hvc_out);
	if (b->mc.hvc_in >= 0)
		close(b->mc.hvc_in);
	b->mc.hvc_out = b->mc.hvc_in = -1;
}
