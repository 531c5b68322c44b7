/* ACPI fixed hardware: PM1a event block (status, enable), PM1a control block and the 24-bit
 * PM timer (ACPI 6.x, chapter 4.8), 12 bytes of port I/O.
 *
 * Writing SLP_EN with SLP_TYP calls sleep(); the machine powers off for the \_S5 value.
 * acpi_pm_power_button() latches PWRBTN_STS and raises the SCI when the guest enabled it. */
#ifndef DOMUS_ACPI_PM_H
#define DOMUS_ACPI_PM_H
#include <pthread.h>
#include <stdint.h>

#include "vmm/bus.h"
#include "vmm/irq.h"

#define ACPI_PM_LEN 12
#define ACPI_PM1_EVT_OFF 0 /* status (2) + enable (2) */
#define ACPI_PM1_CNT_OFF 4 /* control (2) */
#define ACPI_PM_TMR_OFF 8  /* timer (4) */
#define ACPI_S5_TYP 5
#define ACPI_PM_TIMER_HZ 3579545

#define PM1_TMR_STS 0x0001
#define PM1_PWRBTN_STS 0x0100
#define PM1_WAK_STS 0x8000
#define PM1_CNT_SCI_EN 0x0001
#define PM1_CNT_SLP_EN 0x2000

struct acpi_pm {
	pthread_mutex_t lock;
	struct irq_line *sci;
	void (*sleep)(void *ctx, unsigned slp_typ);
	void *ctx;
	int64_t (*mono_ns)(void);
	uint16_t sts, en, cnt;
};

extern const struct io_ops acpi_pm_ops;

/* sci_enabled: start in ACPI mode (no SMI_CMD handshake, as for direct-boot guests). */
void acpi_pm_init(struct acpi_pm *p, struct irq_line *sci, void (*sleep)(void *, unsigned),
		  void *ctx, int sci_enabled);
void acpi_pm_destroy(struct acpi_pm *p);
void acpi_pm_power_button(struct acpi_pm *p);
uint32_t acpi_pm_timer_now(const struct acpi_pm *p);

#endif
