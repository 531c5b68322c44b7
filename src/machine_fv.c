/* The FV PC: what an unmodified PC operating system and its firmware expect, wired top to bottom.
 *
 * Why a separate file and not a mode inside machine_pc.c: the FV PC is the PV PC's ISA devices
 * (COM1, RTC, i8042, ACPI PM, 0xCF9, in machine_pc.c's one table) plus a whole chipset, firmware
 * and disks that direct-boot guests never see; keeping those here leaves machine_pc.c readable
 * and lets machine_pc.c call in at one place.
 *
 *   0x0402         debug port: SeaBIOS's log (domus run --debug)
 *   0x0510-0x051B  fw_cfg (selector, data, DMA)
 *   PCI bus 0      (machine_pc.c's host bridge at 0xCF8, made to look like the i440FX firmware
 *                  knows); 00:01.0 PIIX3 ISA, 00:01.1 PIIX3 IDE, 00:01.3 PIIX4 PM (ACPI block
 *                  where PMBA says; SCI IRQ 9)
 *   0x01F0/0x03F6  IDE primary (hda, hdb), IRQ 14; 0x0170/0x0376 secondary (hdc, hdd), IRQ 15;
 *                  bus master registers where BAR4 of 00:01.1 says
 *   0x03B0-0x03DF  VGA registers; 0xA0000-0xBFFFF VGA memory (MMIO); its BIOS (vgabios-isavga.bin
 *                  beside the firmware image) reaches SeaBIOS as fw_cfg "vgaroms/"
 *   ROM            firmware at 4 GiB - size, last 128 KiB copied to 0xE0000 (RAM)
 */
#include "machine_fv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/image.h"
#include "boot/acpi_fv.h"
#include "boot/e820.h"
#include "boot/firmware.h"
#include "hw/debugcon.h"
#include "hw/fw_cfg.h"
#include "hw/ide.h"
#include "hw/pc_platform.h"
#include "hw/piix.h"
#include "hw/vga.h"
#include "backend/screenshot.h"
#include "machine_pc.h"
#include "lib/log.h"

#define KVM_PAGES_ADDR 0xFFFBC000ull /* identity map + TSS pages vm.c gives KVM */
#define KVM_PAGES_LEN 0x4000ull
static const uint16_t ide_cmd_port[2] = { PORT_IDE0, PORT_IDE1 };
static const uint16_t ide_ctl_port[2] = { PORT_IDE0_CTL, PORT_IDE1_CTL };
static const unsigned ide_irq[2] = { IRQ_IDE0, IRQ_IDE1 };

struct machine_fv {
	struct firmware fw;
	struct fw_cfg fwcfg;
	struct piix piix;
	struct debugcon dbg;
	struct irq_line irq_ide[2];
	struct ide_channel ide[2];
	struct vga vga;
	struct image disks[DOMUS_IDE_DRIVES];
	int image_open[DOMUS_IDE_DRIVES];
	int up, ide_up, vga_up;
};

static void pm_moved(void *ctx, uint64_t old_base, uint64_t new_base)
{
	struct machine *m = ctx;
	if (old_base != PIIX_NO_PM)
		bus_remove(&m->vm.pio, old_base, &m->pm);
	if (new_base != PIIX_NO_PM &&
	    bus_add(&m->vm.pio, new_base, ACPI_PM_LEN, &acpi_pm_ops, &m->pm, "acpi-pm") < 0)
		log_debug("PIIX4: PM block at 0x%llx overlaps another device; not decoded",
			  (unsigned long long)new_base);
}

static int ide_setup(struct machine *m, const struct machine_config *cfg, char *err,
		     size_t errlen)
{
	struct machine_fv *fv = m->fv;
	for (int ch = 0; ch < 2; ch++) {
		struct irq_line *l = &fv->irq_ide[ch];
		l->set = vm_irq_set;
		l->ctx = &m->vm;
		l->gsi = ide_irq[ch];
		if (ide_init(&fv->ide[ch], l, &m->vm.mem) < 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	fv->ide_up = 1;
	for (unsigned i = 0; i < cfg->nide && i < DOMUS_IDE_DRIVES; i++) {
		const struct machine_ide *d = &cfg->ide[i];
		struct image *bk = NULL;
		if (d->index >= DOMUS_IDE_DRIVES) {
			snprintf(err, errlen, "IDE drive %u: there are four, hda to hdd", d->index);
			return -1;
		}
		if (d->path && d->path[0]) {
			char why[320];
			if (image_open(&fv->disks[i], d->path, d->readonly, why, sizeof(why)) < 0) {
				snprintf(err, errlen, "%s %s", d->cdrom ? "CD-ROM" : "disk", why);
				return -1;
			}
			fv->image_open[i] = 1;
			bk = &fv->disks[i];
			if (!d->cdrom && bk->size < IDE_SECTOR) {
				snprintf(err, errlen, "disk %s: smaller than one sector", d->path);
				return -1;
			}
		} else if (!d->cdrom) {
			snprintf(err, errlen, "IDE disk %u: no image", d->index);
			return -1;
		}
		ide_attach(&fv->ide[d->index / 2], d->index % 2, bk, d->cdrom);
	}
	for (int ch = 0; ch < 2; ch++) {
		if (bus_add(&m->vm.pio, ide_cmd_port[ch], IDE_CMD_LEN, &ide_cmd_ops, &fv->ide[ch],
			    "ide") < 0 ||
		    bus_add(&m->vm.pio, ide_ctl_port[ch], IDE_CTL_LEN, &ide_ctl_ops, &fv->ide[ch],
			    "ide-ctl") < 0) {
			snprintf(err, errlen, "IDE ports are taken");
			return -1;
		}
	}
	return 0;
}

/* The CMOS bytes a PC BIOS reads for memory sizes and the CPU count (SeaBIOS uses them when
 * fw_cfg's etc/e820 does not say, and always for RAM below 4 GiB). */
static void cmos_setup(struct machine *m, uint64_t low, uint64_t high, unsigned vcpus)
{
	uint64_t ext_kb = low > ONE_MIB ? (low - ONE_MIB) >> 10 : 0;
	if (ext_kb > 0xFFFF)
		ext_kb = 0xFFFF;
	uint64_t above16 = low > (16ull << 20) ? (low - (16ull << 20)) >> 16 : 0;
	if (above16 > 0xFFFF)
		above16 = 0xFFFF;
	uint64_t above4g = high >> 16;
	struct rtc_mc146818 *r = &m->rtc;
	rtc_mc146818_set_cmos(r, 0x15, 0x80); /* base memory: 640 KiB */
	rtc_mc146818_set_cmos(r, 0x16, 0x02);
	rtc_mc146818_set_cmos(r, 0x17, (uint8_t)ext_kb);
	rtc_mc146818_set_cmos(r, 0x18, (uint8_t)(ext_kb >> 8));
	rtc_mc146818_set_cmos(r, 0x30, (uint8_t)ext_kb);
	rtc_mc146818_set_cmos(r, 0x31, (uint8_t)(ext_kb >> 8));
	rtc_mc146818_set_cmos(r, 0x34, (uint8_t)above16);
	rtc_mc146818_set_cmos(r, 0x35, (uint8_t)(above16 >> 8));
	rtc_mc146818_set_cmos(r, 0x5B, (uint8_t)above4g);
	rtc_mc146818_set_cmos(r, 0x5C, (uint8_t)(above4g >> 8));
	rtc_mc146818_set_cmos(r, 0x5D, (uint8_t)(above4g >> 16));
	rtc_mc146818_set_cmos(r, 0x5F, (uint8_t)(vcpus - 1));
}

/* "bootorder": one Open Firmware device path per line, in the order to try, as SeaBIOS
 * matches them against the paths it builds for its boot devices. */
static int bootorder_text(const struct machine_config *cfg, char *out, size_t len)
{
	size_t o = 0;
	const char *order = cfg->boot_order && cfg->boot_order[0] ? cfg->boot_order : "cd";
	out[0] = '\0';
	for (const char *c = order; *c; c++) {
		for (unsigned i = 0; i < cfg->nide; i++) {
			const struct machine_ide *d = &cfg->ide[i];
			if ((*c == 'c' && d->cdrom) || (*c == 'd' && !d->cdrom) || *c == 'n')
				continue;
			int n = snprintf(out + o, len - o, "/pci@i0cf8/ide@1,1/drive@%u/disk@%u\n",
					 d->index / 2, d->index % 2);
			if (n < 0 || (size_t)n >= len - o)
				return -1;
			o += (size_t)n;
		}
	}
	return (int)o;
}

/* A whole small file, or NULL. */
static uint8_t *read_small_file(const char *path, size_t max, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	uint8_t *b = malloc(max);
	size_t n = b ? fread(b, 1, max, fp) : 0;
	int more = fgetc(fp) != EOF;
	fclose(fp);
	if (!b || n == 0 || more) {
		free(b);
		return NULL;
	}
	*len = n;
	return b;
}

static int fw_cfg_setup(struct machine *m, const struct machine_config *cfg, uint64_t low,
			uint64_t high)
{
	struct fw_cfg *f = &m->fv->fwcfg;
	int r = 0;
	r |= fw_cfg_add_u16(f, FW_CFG_NB_CPUS, (uint16_t)cfg->vcpus);
	r |= fw_cfg_add_u16(f, FW_CFG_MAX_CPUS, (uint16_t)cfg->vcpus);
	r |= fw_cfg_add_u64(f, FW_CFG_RAM_SIZE, cfg->mem_bytes);
	r |= fw_cfg_add_u64(f, FW_CFG_NUMA, 0);
	r |= fw_cfg_add_u16(f, FW_CFG_BOOT_MENU, 0);
	r |= fw_cfg_add_u32(f, FW_CFG_ARCH_IRQ0_OVERRIDE, vm_isa_irqs_via_pic(&m->vm) ? 0 : 1);
	r |= fw_cfg_add_u32(f, FW_CFG_ARCH_E820_TABLE, 0);
	r |= fw_cfg_add_u16(f, FW_CFG_ARCH_ACPI_TABLES, 0);
	r |= fw_cfg_add_u16(f, FW_CFG_ARCH_SMBIOS, 0);

	/* etc/e820: RAM and the pages KVM keeps for itself below the firmware. */
	struct {
		uint64_t addr, len;
		uint32_t type;
	} __attribute__((packed)) e[3];
	unsigned n = 0;
	e[n++] = (typeof(e[0])){ 0, low, E820_RAM };
	if (high)
		e[n++] = (typeof(e[0])){ HIGH_RAM_START, high, E820_RAM };
	e[n++] = (typeof(e[0])){ KVM_PAGES_ADDR, KVM_PAGES_LEN, E820_RESERVED };
	r |= fw_cfg_add_file(f, "etc/e820", e, n * sizeof(e[0]));

	uint8_t sercon[2] = { (uint8_t)PORT_COM1, (uint8_t)(PORT_COM1 >> 8) };
	r |= fw_cfg_add_file(f, "etc/sercon-port", sercon, sizeof(sercon));
	uint8_t menu_wait[2] = { 0, 0 };
	r |= fw_cfg_add_file(f, "etc/boot-menu-wait", menu_wait, sizeof(menu_wait));
	/* ACPI: our tables, linked by the firmware (acpi_fv.h says why not SeaBIOS's own). */
	struct acpi_fv_config ac = {
		.nr_cpus = cfg->vcpus,
		.with_ioapic = !vm_isa_irqs_via_pic(&m->vm),
		.pm_base = PORT_ACPI_PM,
		.sci_irq = IRQ_SCI,
		/* where SeaBIOS puts the 32-bit PCI window for this much low RAM */
		.pci_mem_start = low <= 0x80000000ull ? 0x80000000u : 0xC0000000u,
		.pci_mem_end = 0xFEBFFFFFu,
	};
	struct acpi_fv *acpi = malloc(sizeof(*acpi)); /* 12 KiB, copied into fw_cfg */
	if (!acpi || acpi_fv_build(acpi, &ac) < 0) {
		free(acpi);
		return -1;
	}
	r |= fw_cfg_add_file(f, "etc/acpi/rsdp", acpi->rsdp, sizeof(acpi->rsdp));
	r |= fw_cfg_add_file(f, "etc/acpi/tables", acpi->tables, acpi->tables_len);
	r |= fw_cfg_add_file(f, "etc/table-loader", acpi->loader, acpi->loader_len);
	free(acpi);
	if (!cfg->firmware)
		goto boot_order;
	/* The VGA BIOS for the ISA VGA: without the Bochs VBE ports it runs as a plain VGA. */
	char vgabios[4096];
	const char *slash = strrchr(cfg->firmware, '/');
	snprintf(vgabios, sizeof(vgabios), "%.*s%s", slash ? (int)(slash - cfg->firmware + 1) : 0,
		 cfg->firmware, "vgabios-isavga.bin");
	size_t vlen = 0;
	uint8_t *vrom = read_small_file(vgabios, 256 << 10, &vlen);
	if (vrom) {
		r |= fw_cfg_add_file(f, "vgaroms/vgabios-isavga.bin", vrom, vlen);
		free(vrom);
	} else {
		log_info("no VGA BIOS at %s: the guest has the serial console only", vgabios);
	}
boot_order:;
	char order[1024];
	int olen = bootorder_text(cfg, order, sizeof(order));
	if (olen < 0)
		return -1;
	r |= fw_cfg_add_file(f, "bootorder", order, (size_t)olen);
	return r ? -1 : 0;
}

int machine_fv_create(struct machine *m, const struct machine_config *cfg, char *err,
		      size_t errlen)
{
	struct vm *vm = &m->vm;
	struct machine_fv *fv = calloc(1, sizeof(*fv));
	if (!fv) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	m->fv = fv;
	if (cfg->firmware) {
		if (firmware_load(&fv->fw, cfg->firmware, err, errlen) < 0)
			return -1;
		if (vm_add_rom(vm, fv->fw.gpa, fv->fw.image, fv->fw.len, err, errlen) < 0)
			return -1;
		if (firmware_copy_low(&fv->fw, vm->ram_low, vm->low_size) < 0) {
			snprintf(err, errlen, "too little RAM for the firmware");
			return -1;
		}
	}

	fw_cfg_init(&fv->fwcfg, &vm->mem);
	debugcon_init(&fv->dbg, "firmware");
	fv->up = 1;
	if (ide_setup(m, cfg, err, errlen) < 0)
		return -1;
	piix_init(&fv->piix, m, pm_moved, &ide_bm_ops, &fv->ide[0], &fv->ide[1]);
	piix_i440fx(&m->pci_host.dev);
	if (pci_bus_add(&m->pci, &fv->piix.isa, PIIX_DEVFN_ISA) < 0 ||
	    pci_bus_add(&m->pci, &fv->piix.ide, PIIX_DEVFN_IDE) < 0 ||
	    pci_bus_add(&m->pci, &fv->piix.pm, PIIX_DEVFN_PM) < 0) {
		snprintf(err, errlen, "PCI slot 1 is taken");
		return -1;
	}
	if (!cfg->firmware) {
		/* Direct boot: machine_pc.c already decodes the PM block at 0x600, as its ACPI
		 * tables say; the PIIX4 registers say the same, as firmware would have set them. */
		piix_preset_pm(&fv->piix, PORT_ACPI_PM);
	}

	struct {
		uint64_t base, len;
		const struct io_ops *ops;
		void *ctx;
		const char *name;
	} ports[] = {
		{ DEBUGCON_PORT, 1, &debugcon_ops, &fv->dbg, "debugcon" },
		{ FW_CFG_PORT, FW_CFG_PORT_LEN, &fw_cfg_ops, &fv->fwcfg, "fw_cfg" },
	};
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		if (bus_add(&vm->pio, ports[i].base, ports[i].len, ports[i].ops, ports[i].ctx,
			    ports[i].name) < 0) {
			snprintf(err, errlen, "port 0x%llx for %s is taken",
				 (unsigned long long)ports[i].base, ports[i].name);
			return -1;
		}
	}

	if (vga_init(&fv->vga) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fv->vga_up = 1;
	if (bus_add(&vm->pio, VGA_PORT, VGA_PORT_LEN, &vga_port_ops, &fv->vga, "vga") < 0 ||
	    bus_add(&vm->mmio, VGA_MEM, VGA_MEM_LEN, &vga_mem_ops, &fv->vga, "vga-mem") < 0) {
		snprintf(err, errlen, "VGA ports or memory window taken");
		return -1;
	}
	cmos_setup(m, vm->low_size, vm->high_size, cfg->vcpus);
	if (fw_cfg_setup(m, cfg, vm->low_size, vm->high_size) < 0) {
		snprintf(err, errlen, "firmware configuration does not fit");
		return -1;
	}
	return 0;
}

void machine_fv_destroy(struct machine *m)
{
	struct machine_fv *fv = m->fv;
	if (!fv)
		return;
	if (fv->up) {
		fw_cfg_destroy(&fv->fwcfg);
		debugcon_destroy(&fv->dbg);
	}
	if (fv->vga_up)
		vga_destroy(&fv->vga);
	if (fv->ide_up)
		for (int ch = 0; ch < 2; ch++)
			ide_destroy(&fv->ide[ch]);
	for (int i = 0; i < DOMUS_IDE_DRIVES; i++)
		if (fv->image_open[i])
			image_close(&fv->disks[i]);
	firmware_free(&fv->fw);
	free(fv);
	m->fv = NULL;
}

int machine_fv_screenshot(struct machine *m, const char *path, const char *font, char *err,
			  size_t errlen)
{
	if (!m->fv || !m->fv->vga_up) {
		snprintf(err, errlen, "screenshot: this domain has no VGA");
		return -1;
	}
	struct vga_text *t = malloc(sizeof(*t));
	struct psf_font f;
	char *txt = malloc(VGA_MAX_ROWS * (VGA_MAX_COLS * 3 + 1) + 1);
	int r = -1;
	if (!t || !txt) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (vga_text(&m->fv->vga, t) < 0) {
		snprintf(err, errlen, "screenshot: the VGA is not in a text mode");
		goto out;
	}
	if (psf_load(&f, font ? font : SCREENSHOT_FONT_DEFAULT, err, errlen) < 0)
		goto out;
	r = screenshot_png(t, &f, path, err, errlen);
	psf_free(&f);
	if (r == 0) {
		/* the same screen as text, beside the picture, for scripts and tests */
		char tp[4096];
		snprintf(tp, sizeof(tp), "%s.txt", path);
		size_t n = screenshot_text(t, txt, VGA_MAX_ROWS * (VGA_MAX_COLS * 3 + 1) + 1);
		FILE *fp = fopen(tp, "w");
		if (!fp || fwrite(txt, 1, n, fp) != n) {
			snprintf(err, errlen, "screenshot %s: %s", tp, strerror(errno));
			r = -1;
		}
		if (fp)
			fclose(fp);
	}
out:
	free(t);
	free(txt);
	return r;
}
