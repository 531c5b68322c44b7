/*
 * g_rtc.c - CMOS RTC: reads the date and time (BCD or binary, 12 or 24 h), checks it
 * against the host's epoch and that the seconds advance.
 * cmdline: now=EPOCH (host time in seconds since 1970, UTC); without it only a
 * plausible year (2020..2099) is required.
 * Prints: "rtc: YYYY-MM-DD hh:mm:ss UTC epoch=E now=N diff=D".
 */
#include "rt.h"

const char guest_name[] = "rtc";

struct tm_rtc {
	unsigned sec, min, hour, day, mon, year;
};

static unsigned bcd(u8 v) { return (v >> 4) * 10u + (v & 0xf); }

static void read_raw(u8 r[8])
{
	static const u8 regs[8] = { 0x00, 0x02, 0x04, 0x07, 0x08, 0x09, 0x32, 0x0b };

	for (int i = 0; i < 1000000 && (rt_cmos_read(0x0a) & 0x80); i++) /* update in progress */
		;
	for (int i = 0; i < 8; i++)
		r[i] = rt_cmos_read(regs[i]);
}

static struct tm_rtc read_rtc(void)
{
	u8 a[8], b[8];
	struct tm_rtc t;

	read_raw(a);
	for (int tries = 0; tries < 10; tries++) { /* two equal reads: no update in between */
		read_raw(b);
		if (memcmp(a, b, sizeof(a)) == 0)
			break;
		memcpy(a, b, sizeof(a));
	}
	bool binary = a[7] & 0x04, h24 = a[7] & 0x02;
	bool pm = !h24 && (a[2] & 0x80);
	u8 hour = a[2] & 0x7f;
	t.sec = binary ? a[0] : bcd(a[0]);
	t.min = binary ? a[1] : bcd(a[1]);
	t.hour = binary ? hour : bcd(hour);
	t.day = binary ? a[3] : bcd(a[3]);
	t.mon = binary ? a[4] : bcd(a[4]);
	t.year = binary ? a[5] : bcd(a[5]);
	unsigned century = binary ? a[6] : bcd(a[6]);
	if (!h24) {
		t.hour %= 12;
		if (pm)
			t.hour += 12;
	}
	t.year += (century >= 19 && century <= 21) ? century * 100 : 2000;
	return t;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static s64 days_from_civil(s64 y, unsigned m, unsigned d)
{
	y -= m <= 2;
	s64 era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (s64)doe - 719468;
}

static u64 wait_tick(u64 arg)
{
	u64 end = rdtsc() + 3 * rt_tsc_hz();
	u8 s0 = (u8)arg;

	while (rdtsc() < end) {
		if ((rt_cmos_read(0x0a) & 0x80) == 0 && rt_cmos_read(0x00) != s0)
			return 1;
	}
	return 0;
}

void guest_main(void)
{
	struct tm_rtc t = read_rtc();
	s64 epoch = days_from_civil(t.year, t.mon, t.day) * 86400 + t.hour * 3600 + t.min * 60 + t.sec;
	u64 now = rt_cmdline_u64("now", 0);
	s64 diff = now ? epoch - (s64)now : 0;

	rt_printf("rtc: %04u-%02u-%02u %02u:%02u:%02u UTC epoch=%ld now=%lu diff=%ld\n", t.year, t.mon, t.day,
		  t.hour, t.min, t.sec, epoch, now, diff);
	if (t.mon < 1 || t.mon > 12 || t.day < 1 || t.day > 31 || t.hour > 23 || t.min > 59 || t.sec > 59)
		rt_fail("invalid date/time fields");
	if (now && (diff > 60 || diff < -60))
		rt_fail("RTC is %ld s away from now=%lu", diff, now);
	if (!now && (t.year < 2020 || t.year > 2099))
		rt_fail("implausible year %u (no now= given)", t.year);

	rt_tsc_hz(); /* calibrate before the timed loop */
	if (!rt_run_user(wait_tick, rt_cmos_read(0x00)))
		rt_fail("seconds register did not advance within 3 s");
	rt_printf("rtc: seconds advance\n");
}
