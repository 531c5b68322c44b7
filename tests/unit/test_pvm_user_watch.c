#include "boot/pvm_user_watch.h"
#include "unit.h"

static const char hit[] =
	"[    2.781530] init[1]: segfault at ffffffff81a00040 ip ffffffff81a00040 sp 00007ffd4c3a1e38 "
	"error 15 in init[400000+1000]\r\n";

static void test_signature_line(void)
{
	uint64_t a = 0;
	CHECK_EQ(pvm_user_watch_line(hit, &a), 1);
	CHECK(a == 0xffffffff81a00040ull);
	/* another process, a user-half address, ip != address, a kernel-mode fault: not it */
	CHECK_EQ(pvm_user_watch_line("sh[57]: segfault at ffffffff81a00040 ip ffffffff81a00040 "
				     "sp 0 error 15", &a), 0);
	CHECK_EQ(pvm_user_watch_line("init[1]: segfault at 0 ip 0000000000401000 sp 0 error 4", &a),
		 0);
	CHECK_EQ(pvm_user_watch_line("init[1]: segfault at 10 ip ffffffff81a00040 sp 0 error 15", &a),
		 0);
	CHECK_EQ(pvm_user_watch_line("init[1]: segfault at ffffffff81a00040 ip ffffffff81a00040 sp 0 "
				     "error 11", &a), 0);
	CHECK_EQ(pvm_user_watch_line("init[1]: segfault at ffffffff81a00040 ip", &a), 0);
	CHECK_EQ(pvm_user_watch_line("", &a), 0);
}

static void test_feed_split_anywhere(void)
{
	size_t n = sizeof(hit) - 1;
	for (size_t cut = 0; cut <= n; cut++) {
		struct pvm_user_watch w;
		pvm_user_watch_init(&w);
		int got = pvm_user_watch_feed(&w, (const uint8_t *)"Run /init as init process\n", 26);
		got += pvm_user_watch_feed(&w, (const uint8_t *)hit, cut);
		got += pvm_user_watch_feed(&w, (const uint8_t *)hit + cut, n - cut);
		CHECK_EQ(got, 1);
		/* fires once only */
		CHECK_EQ(pvm_user_watch_feed(&w, (const uint8_t *)hit, n), 0);
	}
}

static void test_long_lines_ignored(void)
{
	struct pvm_user_watch w;
	pvm_user_watch_init(&w);
	char big[600];
	memset(big, 'x', sizeof(big));
	CHECK_EQ(pvm_user_watch_feed(&w, (const uint8_t *)big, sizeof(big)), 0);
	/* the overlong line's tail plus the signature must not count as one line */
	CHECK_EQ(pvm_user_watch_feed(&w, (const uint8_t *)hit + 15, sizeof(hit) - 1 - 15), 0);
	CHECK_EQ(pvm_user_watch_feed(&w, (const uint8_t *)hit, sizeof(hit) - 1), 1);
}

UNIT_MAIN(test_signature_line, test_feed_split_anywhere, test_long_lines_ignored)
