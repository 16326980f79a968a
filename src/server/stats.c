/* stats.c — what a worker reports when sipd gets SIGUSR1: one log line of
 * its counters (messages, errors, connections, transactions and the memory
 * they hold, the password-guessing guard), and from worker 0 the number of
 * live bindings in the store all workers share. For an operator asking
 * "what is it doing?" without a debugger or a packet capture. */
#include "worker.h"

#include <sip/log.h>
#include <time.h>

void sip__worker_report(struct sip__worker *w)
{
	struct sip_tp_stats tp;
	struct sip_txn_stats tx;
	struct sip_transport *t = sip_stack_transport(w->stack);
	sip_transport_stats(t, &tp);
	sip_txn_layer_stats(sip_stack_txns(w->stack), &tx);
	sip_log(SIP_LOG_INFO,
		"%s stats: messages in %llu out %llu, unparsable %llu, answered statelessly %llu, stray responses %llu, "
		"rate-limited %llu, STUN %llu; connections open %u accepted %llu refused %llu (per address %llu) "
		"closed idle %llu slow %llu; transactions %zu using %zu KiB (pool mapped %zu KiB, table and timers %zu KiB)",
		w->name, (unsigned long long)tp.rx_msgs, (unsigned long long)tp.tx_msgs,
		(unsigned long long)tp.parse_errors, (unsigned long long)tp.error_responses,
		(unsigned long long)tp.stray_responses, (unsigned long long)tp.rate_limited,
		(unsigned long long)tp.stun_responses, sip_transport_conn_count(t),
		(unsigned long long)tp.conns_accepted, (unsigned long long)tp.conns_refused,
		(unsigned long long)tp.conns_refused_per_ip, (unsigned long long)tp.conns_idle_closed,
		(unsigned long long)tp.conns_slow_closed, tx.txns, (tx.txn_bytes + tx.msg_bytes) >> 10,
		tx.pool_bytes >> 10, (tx.table_bytes + tx.timer_bytes) >> 10);
	if (w->id != 0 || !w->loc)
		return;
	/* The store is shared (one SQLite file, one memory store, one Redis):
	 * one worker counts it. */
	int n = sip_location_count(w->loc, (struct sip_str){0}, (int64_t)time(NULL));
	if (n >= 0)
		sip_log(SIP_LOG_INFO, "bindings: %d live", n);
	else
		sip_log(SIP_LOG_WARN, "bindings: counting failed: %s", sip_strerror(n));
}
