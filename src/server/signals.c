/* signals.c — what a worker does on the operator's signals. SIGUSR1: log
 * lines of its counters (messages, errors, connections, transactions and the
 * memory they hold; the REGISTER answers by status), and from worker 0 the
 * number of live bindings in the store all workers share — "what is it
 * doing?" without a debugger or a packet capture. SIGHUP: the TLS files are
 * read again (a renewed certificate) for the connections made from then on. */
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
	if (w->reg)
		sip_log(SIP_LOG_INFO, "%s stats: REGISTER answered 200 %llu, 401 %llu, 403 %llu, other 4xx %llu, 5xx %llu",
			w->name, (unsigned long long)w->reg_answers.ok, (unsigned long long)w->reg_answers.challenged,
			(unsigned long long)w->reg_answers.forbidden, (unsigned long long)w->reg_answers.other_4xx,
			(unsigned long long)w->reg_answers.failed);
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

void sip__worker_reload_tls(struct sip__worker *w)
{
	if (!w->cfg->tls_cert && !w->cfg->tls_ca)
		return; /* nothing configured: nothing to read again */
	int rc = sip_transport_tls_reload(sip_stack_transport(w->stack));
	if (rc < 0)
		sip_log(SIP_LOG_ERROR, "%s: reloading the TLS files failed (%s): new connections keep the current ones",
			w->name, sip_strerror(rc));
	else if (w->id == 0)
		sip_log(SIP_LOG_INFO, "TLS files reloaded%s%s%s%s: new connections use them", w->cfg->tls_cert ? " " : "",
			w->cfg->tls_cert ? w->cfg->tls_cert : "", w->cfg->tls_ca ? ", CA " : "",
			w->cfg->tls_ca ? w->cfg->tls_ca : "");
}
