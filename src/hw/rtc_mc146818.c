#include "hw/rtc_mc146818.h"

#include <string.h>
#include <time.h>

#define RTC_SEC 0x00
#define RTC_MIN 0x02
#define RTC_HOUR 0x04
#define RTC_WDAY 0x06
#define RTC_MDAY 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0A
#define RTC_REG_B 0x0B
#define RTC_REG_C 0x0C
#define RTC_REG_D 0x0D
#define RTC_CENTURY 0x32 /* the century byte ACPI's FADT points at */

#define REG_A_UIP 0x80
#define REG_B_SET 0x80
#define REG_B_PIE 0x40
#define REG_B_AIE 0x20
#define REG_B_UIE 0x10
#define REG_B_DM 0x04 /* binary instead of BCD */
#define REG_B_24H 0x02
#define REG_C_IRQF 0x80
#define REG_C_PF 0x40
#define REG_C_UF 0x10
#define REG_D_VRT 0x80

#define NS 1000000000LL

int64_t rtc_host_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's well-known algorithm). */
int64_t rtc_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void rtc_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static uint8_t to_reg(const struct rtc_mc146818 *r, unsigned v)
{
	if (r->cmos[RTC_REG_B] & REG_B_DM)
		return (uint8_t)v;
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static unsigned from_reg(const struct rtc_mc146818 *r, uint8_t v)
{
	if (r->cmos[RTC_REG_B] & REG_B_DM)
		return v;
	return (unsigned)((v >> 4) * 10 + (v & 0x0F));
}

static uint8_t hour_to_reg(const struct rtc_mc146818 *r, unsigned h)
{
	if (r->cmos[RTC_REG_B] & REG_B_24H)
		return to_reg(r, h);
	unsigned h12 = h % 12 ? h % 12 : 12;
	return (uint8_t)(to_reg(r, h12) | (h >= 12 ? 0x80 : 0));
}

static unsigned hour_from_reg(const struct rtc_mc146818 *r, uint8_t v)
{
	if (r->cmos[RTC_REG_B] & REG_B_24H)
		return from_reg(r, v);
	unsigned h = from_reg(r, v & 0x7F) % 12;
	return h + ((v & 0x80) ? 12 : 0);
}

/* Fill the time registers from the guest's current time. */
static void rtc_latch_time(struct rtc_mc146818 *r, int64_t now_ns)
{
	int64_t t = now_ns / NS + r->offset_s;
	int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	int64_t secs = t - days * 86400;
	int64_t y;
	unsigned m, d;
	rtc_civil_from_days(days, &y, &m, &d);
	r->cmos[RTC_SEC] = to_reg(r, (unsigned)(secs % 60));
	r->cmos[RTC_MIN] = to_reg(r, (unsigned)(secs / 60 % 60));
	r->cmos[RTC_HOUR] = hour_to_reg(r, (unsigned)(secs / 3600));
	r->cmos[RTC_WDAY] = to_reg(r, (unsigned)((days % 7 + 11) % 7) + 1); /* 1 = Sunday */
	r->cmos[RTC_MDAY] = to_reg(r, d);
	r->cmos[RTC_MONTH] = to_reg(r, m);
	r->cmos[RTC_YEAR] = to_reg(r, (unsigned)(y % 100));
	r->cmos[RTC_CENTURY] = to_reg(r, (unsigned)(y / 100));
}

/* The guest finished setting the clock (SET cleared): remember its offset from the host. */
static void rtc_commit_time(struct rtc_mc146818 *r, int64_t now_ns)
{
	int64_t y = (int64_t)from_reg(r, r->cmos[RTC_CENTURY]) * 100 +
		    from_reg(r, r->cmos[RTC_YEAR]);
	unsigned m = from_reg(r, r->cmos[RTC_MONTH]), d = from_reg(r, r->cmos[RTC_MDAY]);
	if (m < 1 || m > 12 || d < 1 || d > 31)
		return; /* nonsense from the guest: keep the old time */
	int64_t t = rtc_days_from_civil(y, m, d) * 86400 +
		    hour_from_reg(r, r->cmos[RTC_HOUR]) * 3600 +
		    from_reg(r, r->cmos[RTC_MIN]) * 60 + from_reg(r, r->cmos[RTC_SEC]);
	r->offset_s = t - now_ns / NS;
}

void rtc_mc146818_init(struct rtc_mc146818 *r, struct irq_line *irq, int64_t (*now_ns)(void))
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	r->irq = irq;
	r->now_ns = now_ns ? now_ns : rtc_host_now_ns;
	r->cmos[RTC_REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz periodic rate */
	r->cmos[RTC_REG_B] = REG_B_24H;
	r->cmos[RTC_REG_D] = REG_D_VRT;
	r->last_c_read_ns = r->now_ns();
}

void rtc_mc146818_destroy(struct rtc_mc146818 *r)
{
	pthread_mutex_destroy(&r->lock);
}

void rtc_mc146818_set_cmos(struct rtc_mc146818 *r, uint8_t index, uint8_t val)
{
	pthread_mutex_lock(&r->lock);
	r->cmos[index & 0x7F] = val;
	pthread_mutex_unlock(&r->lock);
}

void rtc_mc146818_save(struct rtc_mc146818 *r, uint8_t cmos[128], int64_t *offset_s)
{
	pthread_mutex_lock(&r->lock);
	memcpy(cmos, r->cmos, 128);
	*offset_s = r->offset_s;
	pthread_mutex_unlock(&r->lock);
}

void rtc_mc146818_restore(struct rtc_mc146818 *r, const uint8_t cmos[128], int64_t offset_s)
{
	pthread_mutex_lock(&r->lock);
	/* Status C (pending flags) and D (valid RAM) start fresh, as after a power-on reset. */
	for (unsigned i = 0; i < 128; i++)
		if (i != RTC_REG_C && i != RTC_REG_D)
			r->cmos[i] = cmos[i];
	r->cmos[RTC_REG_B] &= (uint8_t)~REG_B_SET;
	r->offset_s = offset_s;
	pthread_mutex_unlock(&r->lock);
}

static uint8_t rtc_reg_c(struct rtc_mc146818 *r, int64_t now)
{
	uint8_t c = 0;
	if (now / NS != r->last_c_read_ns / NS)
		c |= REG_C_UF;
	unsigned rate = r->cmos[RTC_REG_A] & 0x0F;
	if (rate) {
		int64_t period = (NS >> 15) << (rate < 3 ? rate + 7 : rate - 1);
		if (now / period != r->last_c_read_ns / period)
			c |= REG_C_PF;
	}
	if (((c & REG_C_UF) && (r->cmos[RTC_REG_B] & REG_B_UIE)) ||
	    ((c & REG_C_PF) && (r->cmos[RTC_REG_B] & REG_B_PIE)))
		c |= REG_C_IRQF;
	r->last_c_read_ns = now;
	return c;
}

static uint64_t rtc_read(void *ctx, uint64_t off, unsigned size)
{
	struct rtc_mc146818 *r = ctx;
	(void)size;
	if (off == 0)
		return 0xFF; /* the index port is write-only */
	pthread_mutex_lock(&r->lock);
	int64_t now = r->now_ns();
	uint8_t idx = r->index, v;
	switch (idx) {
	case RTC_REG_A:
		v = (uint8_t)(r->cmos[RTC_REG_A] & 0x7F);
		if (!(r->cmos[RTC_REG_B] & REG_B_SET) && now % NS >= NS - 244000)
			v |= REG_A_UIP;
		break;
	case RTC_REG_C:
		v = rtc_reg_c(r, now);
		break;
	case RTC_SEC:
	case RTC_MIN:
	case RTC_HOUR:
	case RTC_WDAY:
	case RTC_MDAY:
	case RTC_MONTH:
	case RTC_YEAR:
	case RTC_CENTURY:
		if (!(r->cmos[RTC_REG_B] & REG_B_SET))
			rtc_latch_time(r, now);
		v = r->cmos[idx];
		break;
	default:
		v = r->cmos[idx];
	}
	pthread_mutex_unlock(&r->lock);
	return v;
}

static void rtc_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct rtc_mc146818 *r = ctx;
	uint8_t v = (uint8_t)val;
	(void)size;
	pthread_mutex_lock(&r->lock);
	if (off == 0) {
		r->index = v & 0x7F; /* bit 7 masks NMI on a PC; there is no NMI source here */
		pthread_mutex_unlock(&r->lock);
		return;
	}
	uint8_t idx = r->index;
	switch (idx) {
	case RTC_REG_A:
		r->cmos[idx] = v & 0x7F;
		break;
	case RTC_REG_B: {
		bool was_set = r->cmos[RTC_REG_B] & REG_B_SET;
		if ((v & REG_B_SET) && !was_set)
			rtc_latch_time(r, r->now_ns()); /* the guest edits a frozen copy */
		r->cmos[RTC_REG_B] = v;
		if (was_set && !(v & REG_B_SET))
			rtc_commit_time(r, r->now_ns());
		break;
	}
	case RTC_REG_C:
	case RTC_REG_D:
		break; /* read-only */
	default:
		r->cmos[idx] = v;
	}
	pthread_mutex_unlock(&r->lock);
}

const struct io_ops rtc_mc146818_ops = { .read = rtc_read, .write = rtc_write };
