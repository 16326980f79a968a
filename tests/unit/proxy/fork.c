/* The fork of a proxied request (src/proxy/fork.c) driven event by event
 * with time as a number: what goes upstream and when (§16.7), which
 * branches are CANCELled (2xx, 6xx, upstream CANCEL; never before a
 * provisional, §9.1), and Timer C (§16.6 step 11, §16.8). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sip/proxy.h>

#define TC 180000u
#define GRACE 32000u

static struct sip_proxy_fork f;
static struct sip_proxy_out o;

static void resp(unsigned i, int status, sip_ms_t now)
{
	sip_proxy_fork_response(&f, i, status, now, &o);
}

static void test_single_branch_provisional_then_final(void **state)
{
	(void)state;
	sip_proxy_fork_init(&f, 1, NULL, true, 0, 0, GRACE, 0, &o);
	assert_int_equal(sip_proxy_fork_deadline(&f), TC);
	resp(0, 100, 10);
	assert_false(o.relay); /* a 100 is never relayed */
	assert_int_equal(sip_proxy_fork_deadline(&f), TC); /* and does not restart Timer C */
	resp(0, 180, 1000);
	assert_true(o.relay);
	assert_int_equal(o.final_status, 0);
	assert_int_equal(sip_proxy_fork_deadline(&f), 1000 + TC); /* restarted by the 180 */
	resp(0, 486, 2000);
	assert_false(o.relay);
	assert_true(o.keep);
	assert_int_equal(o.final_status, 486);
	assert_true(o.final_from_kept);
	assert_int_equal(sip_proxy_fork_deadline(&f), SIP_MS_NEVER);
	/* A retransmitted final changes nothing. */
	resp(0, 486, 2100);
	assert_false(o.relay || o.keep || o.final_status);
}

static void test_best_after_all_answer(void **state)
{
	(void)state;
	sip_proxy_fork_init(&f, 3, NULL, true, 0, 0, GRACE, 0, &o);
	resp(0, 486, 10);
	assert_true(o.keep);
	assert_int_equal(o.final_status, 0); /* two still pending */
	resp(1, 302, 20);
	assert_true(o.keep); /* 3xx beats 4xx */
	assert_int_equal(o.final_status, 0);
	sip_proxy_fork_failed(&f, 2, 408, &o);
	assert_false(o.keep);
	assert_int_equal(o.final_status, 302);
	assert_true(o.final_from_kept);
	assert_int_equal(f.best_branch, 1);
}

static void test_2xx_goes_up_and_cancels(void **state)
{
	(void)state;
	sip_proxy_fork_init(&f, 3, NULL, true, 0, 0, GRACE, 0, &o);
	resp(0, 180, 10); /* may be CANCELled */
	/* branch 1: nothing yet; branch 2 answers */
	resp(2, 200, 20);
	assert_true(o.relay);
	assert_int_equal(o.final_status, 0);
	assert_int_equal(o.cancel_mask, 1u << 0); /* only the one that had a provisional */
	assert_true(f.br[1].cancel_wanted);
	assert_int_equal(sip_proxy_fork_deadline(&f), SIP_MS_NEVER);
	/* branch 1's first provisional: CANCEL it now (§9.1), not relayed after a final. */
	resp(1, 183, 30);
	assert_int_equal(o.cancel_mask, 1u << 1);
	assert_false(o.relay);
	/* the 2xx retransmitted: relayed again; the CANCELled ones' 487s stay below. */
	resp(2, 200, 40);
	assert_true(o.relay);
	resp(0, 487, 50);
	assert_int_equal(o.final_status, 0);
	resp(1, 487, 60);
	assert_int_equal(o.final_status, 0);
	/* A second 2xx from another branch would still go up (§16.7 step 5). */
	sip_proxy_fork_init(&f, 2, NULL, true, 0, 0, GRACE, 0, &o);
	resp(0, 200, 1);
	resp(1, 200, 2);
	assert_true(o.relay);
}

static void test_6xx_wins_and_cancels(void **state)
{
	(void)state;
	sip_proxy_fork_init(&f, 3, NULL, true, 0, 0, GRACE, 0, &o);
	resp(0, 180, 1);
	resp(1, 486, 2);
	resp(2, 603, 3);
	assert_true(o.keep);
	assert_int_equal(o.cancel_mask, 1u << 0);
	assert_int_equal(o.final_status, 0); /* branch 0 still owes its final */
	resp(0, 487, 4);
	assert_false(o.keep);
	assert_int_equal(o.final_status, 603);
	assert_true(o.final_from_kept);
}

static void test_upstream_cancel(void **state)
{
	(void)state;
	sip_proxy_fork_init(&f, 2, NULL, true, 0, 0, GRACE, 0, &o);
	resp(0, 180, 1);
	sip_proxy_fork_cancel(&f, &o);
	assert_int_equal(o.cancel_mask, 1u << 0);
	assert_true(f.cancelled);
	assert_true(f.br[1].cancel_wanted);
	resp(1, 100, 2); /* a 100 is a provisional too: CANCEL now */
	assert_int_equal(o.cancel_mask, 1u << 1);
	resp(0, 487, 3);
	resp(1, 487, 4);
	assert_int_equal(o.final_status, 487);
	assert_true(o.final_from_kept);
	/* A non-INVITE is never CANCELled (§9.1). */
	sip_proxy_fork_init(&f, 1, NULL, false, 0, 0, GRACE, 0, &o);
	resp(0, 180, 1);
	sip_proxy_fork_cancel(&f, &o);
	assert_int_equal(o.cancel_mask, 0);
	assert_int_equal(sip_proxy_fork_deadline(&f), SIP_MS_NEVER);
}

static void test_local_failures(void **state)
{
	(void)state;
	/* Statuses made here go up as they are; a downstream 503 becomes 500. */
	sip_proxy_fork_init(&f, 1, NULL, false, 0, 0, GRACE, 0, &o);
	sip_proxy_fork_failed(&f, 0, 503, &o);
	assert_int_equal(o.final_status, 503);
	assert_false(o.final_from_kept);
	sip_proxy_fork_init(&f, 1, NULL, false, 0, 0, GRACE, 0, &o);
	resp(0, 503, 1);
	assert_int_equal(o.final_status, 500);
	assert_false(o.final_from_kept);
	/* A kept 486 beats a local 503 and 482. */
	sip_proxy_fork_init(&f, 3, NULL, true, 0, 0, GRACE, 0, &o);
	sip_proxy_fork_failed(&f, 0, 503, &o);
	sip_proxy_fork_failed(&f, 1, 482, &o);
	resp(2, 486, 5);
	assert_int_equal(o.final_status, 486);
	assert_true(o.final_from_kept);
	/* Out of range and repeated events are ignored. */
	sip_proxy_fork_failed(&f, 7, 408, &o);
	sip_proxy_fork_failed(&f, 2, 408, &o);
	assert_int_equal(o.final_status, 0);
	resp(9, 200, 6);
	assert_false(o.relay);
	/* A nonsense status for a failure counts as 500. */
	sip_proxy_fork_init(&f, 1, NULL, false, 0, 0, GRACE, 0, &o);
	sip_proxy_fork_failed(&f, 0, 200, &o);
	assert_int_equal(o.final_status, 500);
}

static void test_timer_c(void **state)
{
	(void)state;
	sip_proxy_fork_init(&f, 2, NULL, true, 0, 0, GRACE, 0, &o);
	resp(0, 180, 1000);
	assert_int_equal(sip_proxy_fork_deadline(&f), 1000 + TC);
	sip_proxy_fork_timer(&f, 1000 + TC - 1, &o); /* early: nothing */
	assert_int_equal(o.cancel_mask, 0);
	/* Fires: the ringing branch is CANCELled, the silent one ends 408. */
	sip_proxy_fork_timer(&f, 1000 + TC, &o);
	assert_int_equal(o.cancel_mask, 1u << 0);
	assert_true(f.br[1].done);
	assert_int_equal(f.br[1].status, 408);
	assert_int_equal(o.final_status, 0);
	assert_int_equal(sip_proxy_fork_deadline(&f), 1000 + TC + GRACE);
	resp(0, 180, 1000 + TC + 5); /* no restart once fired */
	assert_int_equal(sip_proxy_fork_deadline(&f), 1000 + TC + GRACE);
	/* The CANCELled branch never answers: 408 up after the grace. */
	sip_proxy_fork_timer(&f, 1000 + TC + GRACE, &o);
	assert_int_equal(o.final_status, 408);
	assert_false(o.final_from_kept);
	assert_int_equal(sip_proxy_fork_deadline(&f), SIP_MS_NEVER);
	/* When the CANCELled branch does answer 487 within the grace, that is the answer. */
	sip_proxy_fork_init(&f, 1, NULL, true, 0, 5000, GRACE, 0, &o);
	resp(0, 180, 0);
	sip_proxy_fork_timer(&f, 5000, &o);
	assert_int_equal(o.cancel_mask, 1u);
	resp(0, 487, 6000);
	assert_int_equal(o.final_status, 487);
	assert_true(o.final_from_kept);
	assert_int_equal(sip_proxy_fork_deadline(&f), SIP_MS_NEVER);
	/* Nothing ever answered: Timer C ends it all as 408 at once. */
	sip_proxy_fork_init(&f, 2, NULL, true, 0, 5000, GRACE, 0, &o);
	sip_proxy_fork_timer(&f, 5000, &o);
	assert_int_equal(o.final_status, 408);
	assert_int_equal(o.cancel_mask, 0);
	assert_int_equal(sip_proxy_fork_deadline(&f), SIP_MS_NEVER);
}

/* Found by fuzz/fuzz_fork. A branch Timer C ended as 408 (it had not rung)
 * that answers 2xx after all: the 2xx goes up and ends the fork — no final
 * of ours after it, the ringing branch is not CANCELled a second time. */
static void test_late_2xx_after_timer_c(void **state)
{
	(void)state;
	sip_proxy_fork_init(&f, 2, NULL, true, 0, 5000, GRACE, 0, &o);
	resp(0, 180, 10);
	sip_proxy_fork_timer(&f, 5010, &o);
	assert_int_equal(o.cancel_mask, 1u << 0);
	assert_true(f.br[1].done);
	resp(1, 200, 5020);
	assert_true(o.relay);
	assert_int_equal(o.cancel_mask, 0); /* branch 0's CANCEL is out already */
	assert_int_equal(sip_proxy_fork_deadline(&f), SIP_MS_NEVER);
	resp(0, 487, 5030);
	assert_int_equal(o.final_status, 0); /* a 2xx went up: nothing else may */
	assert_false(o.relay);
}

/* Found by fuzz/fuzz_fork: one CANCEL per branch, whatever asks again
 * (Timer C, then a CANCEL from upstream, then a 6xx). */
static void test_cancel_once_per_branch(void **state)
{
	(void)state;
	sip_proxy_fork_init(&f, 3, NULL, true, 0, 5000, GRACE, 0, &o);
	resp(0, 180, 10);
	resp(1, 180, 10);
	sip_proxy_fork_timer(&f, 5010, &o);
	assert_int_equal(o.cancel_mask, 3u);
	sip_proxy_fork_cancel(&f, &o);
	assert_int_equal(o.cancel_mask, 0);
	resp(0, 603, 5020);
	assert_int_equal(o.cancel_mask, 0);
}

/* Found by fuzz/fuzz_fork: a non-INVITE has one final — a second branch's
 * 2xx does not go up (only an INVITE's 2xx do, §16.7 step 5). */
static void test_non_invite_one_final(void **state)
{
	(void)state;
	sip_proxy_fork_init(&f, 2, NULL, false, 0, 0, GRACE, 0, &o);
	resp(0, 200, 10);
	assert_true(o.relay);
	resp(1, 202, 20);
	assert_false(o.relay);
	assert_int_equal(o.final_status, 0);
	resp(0, 200, 30); /* its own retransmission: the transaction would absorb it; not up either */
	assert_false(o.relay);
}

/* §16.6 with q-values: the 1.0 group rings first; only when all of it
 * failed does the 0.5 group start, and a 2xx, a 6xx or a CANCEL ends the
 * search (the groups not started never start). */
static void test_serial_by_q(void **state)
{
	(void)state;
	int32_t q[] = {1000, 1000, 500, -1};
	/* -1 (no q) counts as 1.0: it joins the first group. */
	int32_t q2[] = {-1, 1000, 500, 100};
	sip_proxy_fork_init(&f, 4, q2, true, 0, 0, GRACE, 0, &o);
	assert_int_equal(o.start_from, 0);
	assert_int_equal(o.start_to, 2);
	resp(0, 486, 10);
	assert_int_equal(o.start_to, 0); /* branch 1 still out */
	resp(1, 480, 20);
	assert_int_equal(o.start_from, 2); /* the 0.5 group */
	assert_int_equal(o.start_to, 3);
	assert_int_equal(o.final_status, 0);
	assert_int_equal(sip_proxy_fork_deadline(&f), 20 + TC); /* Timer C starts over for it */
	sip_proxy_fork_failed(&f, 2, 408, &o);
	assert_int_equal(o.start_from, 3);
	assert_int_equal(o.start_to, 4);
	resp(3, 404, 40);
	assert_int_equal(o.final_status, 486); /* then the best of all */
	assert_true(o.final_from_kept);
	/* A 2xx in the first group: the others never start, nothing waits. */
	(void)q;
	sip_proxy_fork_init(&f, 3, (int32_t[]){900, 500, 100}, true, 0, 0, GRACE, 0, &o);
	assert_int_equal(o.start_to, 1);
	resp(0, 200, 5);
	assert_true(o.relay);
	assert_int_equal(o.start_to, 0);
	assert_int_equal(f.pending, 0);
	assert_int_equal(sip_proxy_fork_deadline(&f), SIP_MS_NEVER);
	/* A 6xx ends the search too. */
	sip_proxy_fork_init(&f, 2, (int32_t[]){900, 500}, true, 0, 0, GRACE, 0, &o);
	resp(0, 603, 5);
	assert_int_equal(o.final_status, 603);
	assert_int_equal(o.start_to, 0);
	/* So does an upstream CANCEL while the first group rings. */
	sip_proxy_fork_init(&f, 2, (int32_t[]){900, 500}, true, 0, 0, GRACE, 0, &o);
	resp(0, 180, 5);
	sip_proxy_fork_cancel(&f, &o);
	assert_int_equal(o.cancel_mask, 1u);
	resp(0, 487, 6);
	assert_int_equal(o.final_status, 487);
	assert_int_equal(o.start_to, 0);
	/* Events for branches not started are ignored. */
	sip_proxy_fork_init(&f, 2, (int32_t[]){900, 500}, false, 0, 0, GRACE, 0, &o);
	resp(1, 200, 1);
	assert_false(o.relay);
	sip_proxy_fork_failed(&f, 1, 408, &o);
	assert_int_equal(f.pending, 2);
}

static void test_caps(void **state)
{
	(void)state;
	sip_proxy_fork_init(&f, 100, NULL, true, 0, 0, GRACE, 0, &o);
	assert_int_equal(f.n, SIP_PROXY_MAX_BRANCHES);
	assert_int_equal(f.pending, SIP_PROXY_MAX_BRANCHES);
	for (unsigned i = 0; i < SIP_PROXY_MAX_BRANCHES; i++)
		resp(i, 180, 1);
	sip_proxy_fork_cancel(&f, &o);
	assert_int_equal(o.cancel_mask, (1u << SIP_PROXY_MAX_BRANCHES) - 1);
}

/* RFC 5393 §5.3.3: the parallel branches share the Incoming Max-Breadth. */
static void test_breadth_shared(void **state)
{
	(void)state;
	sip_proxy_fork_init(&f, 3, NULL, true, 0, 0, GRACE, 0, &o); /* none received: 60 */
	assert_int_equal(o.start_from, 0);
	assert_int_equal(o.start_to, 3);
	assert_int_equal(f.br[0].breadth + f.br[1].breadth + f.br[2].breadth, 60);
	assert_int_equal(f.br[2].breadth, 20);
	sip_proxy_fork_init(&f, 3, NULL, true, 0, 0, GRACE, 7, &o);
	assert_int_equal(f.br[0].breadth, 3); /* 7 = 3 + 2 + 2, never 0 */
	assert_int_equal(f.br[1].breadth, 2);
	assert_int_equal(f.br[2].breadth, 2);
	sip_proxy_fork_init(&f, 1, NULL, false, 0, 0, GRACE, 9, &o);
	assert_int_equal(f.br[0].breadth, 9); /* not forking: passed on whole */
}

/* A group larger than the breadth: as many as fit, 1 each; one more as each
 * ends; none after a 2xx. */
static void test_breadth_serialises(void **state)
{
	(void)state;
	sip_proxy_fork_init(&f, 4, NULL, true, 0, 0, GRACE, 2, &o);
	assert_int_equal(o.start_from, 0);
	assert_int_equal(o.start_to, 2);
	assert_int_equal(f.br[0].breadth, 1);
	assert_int_equal(f.br[1].breadth, 1);
	resp(1, 180, 5);
	assert_int_equal(o.start_to, 0); /* a provisional frees nothing */
	resp(1, 486, 10);
	assert_int_equal(o.final_status, 0);
	assert_int_equal(o.start_from, 2); /* branch 1's breadth goes to branch 2 */
	assert_int_equal(o.start_to, 3);
	assert_int_equal(f.br[2].breadth, 1);
	resp(0, 200, 20);
	assert_true(o.relay);
	assert_int_equal(o.start_to, 0); /* the 2xx ends the search: branch 3 never starts */
	assert_int_equal(f.started, 4);
	assert_true(f.br[3].done);
}

/* Breadth frees as branches fail here too, and the last of the group takes
 * what is left; a lower-q group still waits for the whole higher one. */
static void test_breadth_with_q_groups(void **state)
{
	(void)state;
	int32_t q[4] = {1000, 1000, 1000, 500};
	sip_proxy_fork_init(&f, 4, q, false, 0, 0, GRACE, 2, &o);
	assert_int_equal(o.start_to, 2);
	sip_proxy_fork_failed(&f, 0, 503, &o);
	assert_int_equal(o.start_from, 2);
	assert_int_equal(o.start_to, 3);
	assert_int_equal(f.br[2].breadth, 1); /* branch 1 still holds 1 of the 2 */
	resp(1, 404, 5);
	assert_int_equal(o.start_to, 0); /* branch 2 is still out: q=0.5 waits */
	resp(2, 480, 6);
	assert_int_equal(o.start_from, 3);
	assert_int_equal(o.start_to, 4);
	assert_int_equal(f.br[3].breadth, 2); /* alone: the whole breadth */
	resp(3, 486, 7);
	assert_int_equal(o.final_status, 404); /* the first 4xx from downstream stays best */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_branch_provisional_then_final),
		cmocka_unit_test(test_best_after_all_answer),
		cmocka_unit_test(test_2xx_goes_up_and_cancels),
		cmocka_unit_test(test_6xx_wins_and_cancels),
		cmocka_unit_test(test_upstream_cancel),
		cmocka_unit_test(test_local_failures),
		cmocka_unit_test(test_timer_c),
		cmocka_unit_test(test_late_2xx_after_timer_c),
		cmocka_unit_test(test_cancel_once_per_branch),
		cmocka_unit_test(test_non_invite_one_final),
		cmocka_unit_test(test_serial_by_q),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_breadth_shared),
		cmocka_unit_test(test_breadth_serialises),
		cmocka_unit_test(test_breadth_with_q_groups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
