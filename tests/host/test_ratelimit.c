/* lib/ratelimit.h: which lines of one source are printed. */
#include "lib/ratelimit.h"
#include "tests/host/test.h"

TEST(the_first_burst_is_printed_then_every_thousandth)
{
	u32 printed = 0;

	for (u32 nth = 1; nth <= LOG_BURST; nth++)
		CHECK(log_nth_due(nth));
	CHECK(!log_nth_due(LOG_BURST + 1));
	CHECK(log_nth_due(LOG_EVERY));
	CHECK(log_nth_due(3 * LOG_EVERY));
	for (u32 nth = 1; nth <= 10 * LOG_EVERY; nth++)
		printed += log_nth_due(nth);
	CHECK_EQ(printed, LOG_BURST + 10);
}
