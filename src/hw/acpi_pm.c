#include "hw/acpi_pm.h"

#include <string.h>
#include <time.h>

static int64_t mono_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

uint32_t acpi_pm_timer_now(const struct acpi_pm *p)
{
	int64_t ns = p->mono_ns();
	/* ticks = ns * f / 1e9, split to stay inside 64 bits for centuries of uptime */
	uint64_t ticks = (uint64_t)(ns / 1000000000LL) * ACPI_PM_TIMER_HZ +
			 (uint64_t)(ns % 1000000000LL) * ACPI_PM_TIMER_HZ / 1000000000ULL;
	return (uint32_t)(ticks & 0xFFFFFF);
}

static void pm_update_sci(struct acpi_pm *p)
{
	int level = (p->sts & p->en & (PM1_PWRBTN_STS | PM1_TMR_STS)) && (p->cnt & PM1_CNT_SCI_EN);
	irq_line_set(p->sci, level);
}

void acpi_pm_init(struct acpi_pm *p, struct irq_line *sci, void (*sleep)(void *, unsigned),
		  void *ctx, int sci_enabled)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	p->sci = sci;
	p->sleep = sleep;
	p->ctx = ctx;
	p->mono_ns = mono_now_ns;
	p->cnt = sci_enabled ? PM1_CNT_SCI_EN : 0;
}

void acpi_pm_destroy(struct acpi_pm *p)
{
	pthread_mutex_destroy(&p->lock);
}

void acpi_pm_power_button(struct acpi_pm *p)
{
	pthread_mutex_lock(&p->lock);
	p->sts |= PM1_PWRBTN_STS;
	pm_update_sci(p);
	pthread_mutex_unlock(&p->lock);
}

static uint64_t pm_read(void *ctx, uint64_t off, unsigned size)
{
	struct acpi_pm *p = ctx;
	uint64_t v;
	uint8_t regs[ACPI_PM_LEN];
	pthread_mutex_lock(&p->lock);
	uint32_t tmr = acpi_pm_timer_now(p);
	memcpy(&regs[0], &p->sts, 2);
	memcpy(&regs[2], &p->en, 2);
	memcpy(&regs[4], &p->cnt, 2);
	memset(&regs[6], 0, 2);
	memcpy(&regs[8], &tmr, 4);
	pthread_mutex_unlock(&p->lock);
	/* Byte-granular view so 1-, 2- and 4-byte accesses at any offset agree. */
	v = 0;
	for (unsigned i = 0; i < size && off + i < ACPI_PM_LEN; i++)
		v |= (uint64_t)regs[off + i] << (8 * i);
	for (unsigned i = 0; i < size && i < 8; i++)
		if (off + i >= ACPI_PM_LEN)
			v |= 0xFFull << (8 * i);
	return v;
}

static void pm_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct acpi_pm *p = ctx;
	unsigned sleep_typ = 0;
	int do_sleep = 0;
	pthread_mutex_lock(&p->lock);
	for (unsigned i = 0; i < size; i++) {
		uint64_t o = off + i;
		uint16_t b = (uint16_t)((val >> (8 * i)) & 0xFF);
		unsigned shift = (o & 1) * 8;
		if (o < 2) {
			p->sts &= (uint16_t)~(b << shift); /* write 1 to clear */
		} else if (o < 4) {
			p->en = (uint16_t)((p->en & ~(0xFF << shift)) | (b << shift));
		} else if (o < 6) {
			uint16_t c = (uint16_t)((p->cnt & ~(0xFF << shift)) | (b << shift));
			if (c & PM1_CNT_SLP_EN) {
				do_sleep = 1;
				sleep_typ = (c >> 10) & 7;
				c &= (uint16_t)~PM1_CNT_SLP_EN; /* SLP_EN always reads 0 */
			}
			p->cnt = c;
		}
	}
	pm_update_sci(p);
	pthread_mutex_unlock(&p->lock);
	if (do_sleep && p->sleep)
		p->sleep(p->ctx, sleep_typ);
}

const struct io_ops acpi_pm_ops = { .read = pm_read, .write = pm_write };
