/* What this version of Domus can build from a domain config: one set of rules for `domus run`
 * and for domusd, so that a config that runs in the foreground also runs under domusd and is
 * refused with the same words where it cannot. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config/domcfg.h"
#include "lib/log.h"

/* The IDE drives of an FV guest, or of a kernel on the FV PC (fv_devices). */
static int check_ide(const struct domain_config *dc, const char *src, char *err, size_t errlen)
{
	for (size_t i = 0; i < dc->ndisks; i++) {
		const struct domcfg_disk *d = &dc->disks[i];
		if (d->bus != DOMCFG_BUS_HD || d->partition || d->index >= DOMUS_IDE_DRIVES)
			return errf(err, errlen, "%s:%d: disk %s: an FV guest has IDE drives hda "
				    "to hdd", src, d->line, d->vdev);
		if (d->format != DOMCFG_DISK_RAW && d->format != DOMCFG_DISK_EMPTY)
			return errf(err, errlen, "%s:%d: disk %s: format %s is not supported (raw "
				    "only)", src, d->line, d->vdev, domcfg_format_name(d->format));
		for (size_t j = 0; j < i; j++)
			if (dc->disks[j].index == d->index)
				return errf(err, errlen, "%s:%d: disk %s: that IDE drive is taken",
					    src, d->line, d->vdev);
	}
	return 0;
}

static int check_fv(const struct domain_config *dc, const char *src, char *err, size_t errlen)
{
	if (dc->firmware == DOMCFG_FW_OVMF)
		return errf(err, errlen, "%s: firmware \"ovmf\": Domus boots FV guests with "
			    "SeaBIOS only", src);
	if (dc->nnics)
		return errf(err, errlen, "%s: vif: FV guests have no network devices in this "
			    "version of Domus", src);
	if (dc->fv_devices)
		return errf(err, errlen, "%s: fv_devices: is for a kernel booted directly; an "
			    "hvm guest is on the FV PC already", src);
	return check_ide(dc, src, err, errlen);
}

static int check_pv(const struct domain_config *dc, const char *src, char *err, size_t errlen)
{
	if (dc->bios_path)
		return errf(err, errlen, "%s: bios_path_override: a %s guest boots its kernel "
			    "directly, without firmware", src, domcfg_type_name(dc->type));
	if (dc->fv_devices && check_ide(dc, src, err, errlen) < 0)
		return -1;
	if (dc->ndisks > DOMUS_MAX_DISKS)
		return errf(err, errlen, "%s:%d: at most %d disks", src,
			    dc->disks[DOMUS_MAX_DISKS].line, DOMUS_MAX_DISKS);
	for (size_t i = 0; i < dc->ndisks; i++) {
		const struct domcfg_disk *d = &dc->disks[i];
		if (dc->fv_devices)
			break;
		if (d->cdrom || d->format != DOMCFG_DISK_RAW)
			return errf(err, errlen, "%s:%d: disk %s: PV guests get virtio-blk disks on "
				    "raw images; %s is not supported", src, d->line, d->vdev,
				    d->cdrom ? "a CD-ROM" : domcfg_format_name(d->format));
	}
	if (dc->nnics > DOMUS_MAX_NICS)
		return errf(err, errlen, "%s:%d: at most %d NICs", src,
			    dc->nics[DOMUS_MAX_NICS].line, DOMUS_MAX_NICS);
	for (size_t i = 0; i < dc->nnics; i++) {
		const struct domcfg_nic *n = &dc->nics[i];
		if (n->model && strcmp(n->model, "virtio") && strcmp(n->model, "virtio-net"))
			return errf(err, errlen, "%s:%d: vif model=%s: PV guests get virtio-net NICs",
				    src, n->line, n->model);
	}
	return 0;
}

int domcfg_check_support(const struct domain_config *dc, const char *source, char *err,
			 size_t errlen)
{
	if (dc->type == DOMCFG_TYPE_HVM)
		return check_fv(dc, source, err, errlen);
	return check_pv(dc, source, err, errlen);
}
