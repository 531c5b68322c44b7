/* MC146818 CMOS real-time clock and its 128 bytes of CMOS RAM (ports 0x70/0x71).
 *
 * Time runs from the host's clock (UTC) plus an offset the guest may set through the SET bit.
 * BCD or binary and 12/24-hour formats follow register B; UIP is set in the last 244 µs of each
 * second, as on the chip; update-ended and periodic flags in register C are derived from the clock
 * when C is read. The clock source is injectable for tests. */
#ifndef DOMUS_RTC_MC146818_H
#define DOMUS_RTC_MC146818_H
#include <pthread.h>
#include <stdint.h>

#include "vmm/bus.h"
#include "vmm/irq.h"

struct rtc_mc146818 {
	pthread_mutex_t lock;
	struct irq_line *irq;
	int64_t (*now_ns)(void); /* nanoseconds since the Unix epoch */
	int64_t offset_s;        /* guest time - host time */
	int64_t last_c_read_ns;
	uint8_t index;
	uint8_t cmos[128];
};

extern const struct io_ops rtc_mc146818_ops;

void rtc_mc146818_init(struct rtc_mc146818 *r, struct irq_line *irq, int64_t (*now_ns)(void));
void rtc_mc146818_destroy(struct rtc_mc146818 *r);
/* Set a CMOS byte (e.g. memory sizes for firmware) before the guest runs. */
void rtc_mc146818_set_cmos(struct rtc_mc146818 *r, uint8_t index, uint8_t val);
int64_t rtc_host_now_ns(void);
/* CMOS RAM and the guest's clock offset, kept across a machine reset like a PC's battery. */
void rtc_mc146818_save(struct rtc_mc146818 *r, uint8_t cmos[128], int64_t *offset_s);
void rtc_mc146818_restore(struct rtc_mc146818 *r, const uint8_t cmos[128], int64_t offset_s);

/* Calendar helpers (proleptic Gregorian, UTC), exposed for tests. */
int64_t rtc_days_from_civil(int64_t y, unsigned m, unsigned d);
void rtc_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

#endif
