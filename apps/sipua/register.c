/* sipua register --user U --password P --registrar URI [--expires N]
 * [--unregister] [--once] [--transport udp|tcp|tls] [--contact URI] —
 * registration (RFC 3261 §10.2): binds our Contact to sip:U@<registrar host>,
 * answering digest challenges; prints each answer's status line and Contact
 * bindings; refreshes at half the granted time with the same Call-ID and a
 * higher CSeq (§10.2.4); a 423 is retried once with the Min-Expires asked for
 * (§10.2.8); SIGINT/SIGTERM unregister (Expires: 0 for our Contact) and exit.
 * Exit status: 0 success, 1 SIP failure, 2 usage. */
#include <getopt.h>
#include <signal.h>
#include <sip/msg.h>
#include <sip/ua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipua.h"

#define REG_DEFAULT_EXPIRES 3600
#define REG_AOR_MAX 600

enum reg_state { REG_IDLE, REG_REGISTERING, REG_UNREGISTERING, REG_DONE };

struct reg {
	uv_loop_t loop;
	struct sip_ua *ua;
	struct sip_ua_session sess;
	uv_timer_t refresh;
	uv_signal_t sigint, sigterm;
	const char *registrar;
	enum sip_tp_type transport;
	char aor[REG_AOR_MAX];
	char contact[SIP_UA_URI_MAX]; /* fixed after the first request, so refreshes and the unregister match
					 it */
	uint32_t expires;	      /* asked for */
	bool once, unregister_only;
	enum reg_state state;
	bool registered, stop_requested, min_expires_retried;
	int exit_code;
};

static void send_register(struct reg *g, uint32_t expires);

/* Marks the run finished; the UA is closed by the caller of the loop, never
 * from inside one of its own callbacks. */
static void shut_down(struct reg *g, int code)
{
	if (g->state == REG_DONE)
		return;
	g->state = REG_DONE;
	g->exit_code = code;
	uv_timer_stop(&g->refresh);
}

static void print_result(const struct sip_ua_result *r)
{
	if (!r->msg) {
		printf("SIP/2.0 %d (local) %s\n", r->status, r->error ? r->error : "");
		fflush(stdout);
		return;
	}
	printf("%.*s\n", SIP_STR_ARG(r->msg->start_line));
	struct sip_hdr_iter it;
	struct sip_str v;
	sip_hdr_iter_init(&it, r->msg, SIP_HDR_CONTACT);
	while (sip_hdr_iter_next(&it, &v) == 1)
		printf("Contact: %.*s\n", SIP_STR_ARG(v));
	fflush(stdout);
}

/* The time the registrar granted our contact: its expires parameter in the
 * 200, else the Expires header, else what we asked for (§10.2.4). */
static uint32_t granted(const struct reg *g, const struct sip_msg *m, bool *listed)
{
	struct sip_uri mine;
	*listed = false;
	bool have_mine = sip_uri_parse(&mine, g->contact, strlen(g->contact), NULL) == 0;
	struct sip_hdr_iter it;
	struct sip_str v;
	sip_hdr_iter_init(&it, m, SIP_HDR_CONTACT);
	while (sip_hdr_iter_next(&it, &v) == 1) {
		struct sip_contact c;
		if (sip_contact_parse(&c, v, NULL) < 0 || c.na.star)
			continue;
		bool same = have_mine ? sip_uri_equal(&c.na.uri, &mine)
				      : sip_str_eq(c.na.uri_str, sip_str_c(g->contact));
		if (same) {
			*listed = true;
			if (c.has_expires)
				return c.expires;
			break;
		}
	}
	if (m->first[SIP_HDR_EXPIRES] != SIP_HDR_NONE) {
		uint32_t e;
		if (sip_u32_parse(&e, m->hdrs[m->first[SIP_HDR_EXPIRES]].value, NULL) == 0)
			return e;
	}
	return g->expires;
}

static void on_refresh(uv_timer_t *t)
{
	struct reg *g = t->data;
	if (g->state == REG_IDLE)
		send_register(g, g->expires);
}

static void on_done(void *arg, const struct sip_ua_result *r)
{
	struct reg *g = arg;
	if (g->state == REG_DONE)
		return; /* the UA closing: already decided */
	print_result(r);
	if (!g->contact[0] && r->contact[0])
		snprintf(g->contact, sizeof(g->contact), "%s", r->contact);
	bool ok = r->status >= 200 && r->status < 300;
	if (g->state == REG_UNREGISTERING) {
		if (ok)
			printf("unregistered: %s\n", g->aor);
		fflush(stdout);
		shut_down(g, ok ? 0 : 1);
		return;
	}
	g->state = REG_IDLE;
	if (r->status == 423 && r->msg && !g->min_expires_retried &&
	    r->msg->first[SIP_HDR_MIN_EXPIRES] != SIP_HDR_NONE) {
		/* §10.2.8: ask again for at least Min-Expires, once. */
		uint32_t min;
		if (sip_u32_parse(&min, r->msg->hdrs[r->msg->first[SIP_HDR_MIN_EXPIRES]].value, NULL) == 0 &&
		    min > g->expires) {
			g->min_expires_retried = true;
			g->expires = min;
			fprintf(stderr, "sipua register: registrar wants expires >= %u; asking again\n",
				(unsigned)min);
			send_register(g, g->expires);
			return;
		}
	}
	if (!ok) {
		fprintf(stderr, "sipua register: %s failed: %d%s%s\n",
			g->registered ? "refresh" : "registration", r->status, r->error ? " " : "",
			r->error ? r->error : "");
		shut_down(g, 1);
		return;
	}
	bool listed;
	uint32_t e = granted(g, r->msg, &listed);
	g->registered = true;
	printf("registered: %s -> %s expires %u%s\n", g->aor, g->contact, (unsigned)e,
	       listed ? "" : " (our contact not listed)");
	fflush(stdout);
	if (g->once) {
		shut_down(g, 0);
		return;
	}
	if (g->stop_requested) {
		g->state = REG_UNREGISTERING;
		send_register(g, 0);
		return;
	}
	/* Half the granted time leaves room for a lost request and its retries
	 * (Timer F is 32 s with the default T1). */
	uint64_t ms = (uint64_t)e * 500u;
	if (ms < 1000)
		ms = 1000;
	uv_timer_start(&g->refresh, on_refresh, ms, 0);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct reg *g = s->data;
	(void)signum;
	if (g->state == REG_DONE)
		return;
	if (g->once || g->unregister_only || g->state == REG_UNREGISTERING || g->stop_requested) {
		shut_down(g, 1); /* a second signal, or nothing to undo: stop now */
		return;
	}
	uv_timer_stop(&g->refresh);
	if (g->state == REG_REGISTERING) {
		g->stop_requested = true; /* unregister once the answer is in */
		return;
	}
	if (!g->registered) {
		shut_down(g, 0);
		return;
	}
	g->state = REG_UNREGISTERING;
	send_register(g, 0);
}

static void send_register(struct reg *g, uint32_t expires)
{
	char headers[64];
	struct sip_ua_request req;
	memset(&req, 0, sizeof(req));
	req.method = "REGISTER";
	req.uri = g->registrar;
	req.transport = g->transport;
	req.from = g->aor;
	req.to = g->aor;
	req.session = &g->sess;
	if (g->unregister_only && !g->contact[0]) {
		/* §10.2.2: all of the AOR's bindings. */
		req.no_contact = true;
		snprintf(headers, sizeof(headers), "Contact: *\r\nExpires: 0\r\n");
	} else {
		req.contact = g->contact[0] ? g->contact : NULL;
		snprintf(headers, sizeof(headers), "Expires: %u\r\n", (unsigned)expires);
	}
	req.headers = headers;
	if (g->state != REG_UNREGISTERING)
		g->state = REG_REGISTERING;
	int rc = sip_ua_send(g->ua, &req, on_done, g);
	if (rc < 0) {
		fprintf(stderr, "sipua register: '%s': %s\n", g->registrar, sip_strerror(rc));
		shut_down(g, g->registered ? 1 : 2);
	}
}

static int usage(FILE *out)
{
	fputs("usage: sipua register --user U --password P --registrar URI [--expires N]\n"
	      "                      [--unregister] [--once] [--transport udp|tcp|tls] [--contact URI]\n"
	      "                      [--tls-ca FILE] [--insecure] [--dns HOST:PORT] [--t1 MS]\n",
	      out);
	return out == stdout ? 0 : 2;
}

/* sip:U@<host of the registrar URI> (IPv6 in brackets). */
static int make_aor(struct reg *g, const char *user)
{
	struct sip_uri u;
	if (sip_uri_parse(&u, g->registrar, strlen(g->registrar), NULL) < 0 ||
	    (u.scheme != SIP_URI_SIP && u.scheme != SIP_URI_SIPS))
		return SIP_EINVAL;
	bool v6 = u.host_type == SIP_HOST_IPV6;
	int n = snprintf(g->aor, sizeof(g->aor), "%s:%s@%s%.*s%s", u.scheme == SIP_URI_SIPS ? "sips" : "sip",
			 user, v6 ? "[" : "", SIP_STR_ARG(u.host), v6 ? "]" : "");
	return n > 0 && (size_t)n < sizeof(g->aor) ? 0 : SIP_ETOOBIG;
}

int sipua_cmd_register(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"user", required_argument, NULL, 'u'},
	    {"password", required_argument, NULL, 'p'},
	    {"registrar", required_argument, NULL, 'r'},
	    {"expires", required_argument, NULL, 'e'},
	    {"unregister", no_argument, NULL, 'U'},
	    {"once", no_argument, NULL, 'o'},
	    {"transport", required_argument, NULL, 't'},
	    {"contact", required_argument, NULL, 'c'},
	    {"tls-ca", required_argument, NULL, 'C'},
	    {"insecure", no_argument, NULL, 'k'},
	    {"dns", required_argument, NULL, 'D'},
	    {"t1", required_argument, NULL, '1'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static struct reg g; /* large (a session) and used by callbacks: not on the stack */
	memset(&g, 0, sizeof(g));
	g.expires = REG_DEFAULT_EXPIRES;
	struct sip_ua_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	const char *user = NULL, *contact = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "u:p:r:e:t:c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			user = optarg;
			break;
		case 'p':
			cfg.password = optarg;
			break;
		case 'r':
			g.registrar = optarg;
			break;
		case 'e':
			if (sip_str_to_u32(sip_str_c(optarg), &g.expires) < 0) {
				fprintf(stderr, "sipua register: --expires wants seconds\n");
				return 2;
			}
			break;
		case 'U':
			g.unregister_only = true;
			break;
		case 'o':
			g.once = true;
			break;
		case 't':
			g.transport = sip_transport_type_parse(sip_str_c(optarg));
			if (!g.transport) {
				fprintf(stderr, "sipua register: --transport must be udp, tcp or tls\n");
				return 2;
			}
			break;
		case 'c':
			contact = optarg;
			break;
		case 'C':
			cfg.tls_ca_file = optarg;
			break;
		case 'k':
			cfg.tls_insecure_no_verify = true;
			break;
		case 'D':
			cfg.dns_servers = optarg;
			break;
		case '1':
			cfg.txn.t1_ms = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'h':
			return usage(stdout);
		default:
			return usage(stderr);
		}
	}
	if (optind != argc || !user || !g.registrar || !user[0] || strpbrk(user, "@:;<>\r\n \t")) {
		fprintf(stderr, "sipua register: --user (a plain user name) and --registrar are required\n");
		return usage(stderr);
	}
	if (make_aor(&g, user) < 0) {
		fprintf(stderr, "sipua register: --registrar wants a sip: or sips: URI\n");
		return 2;
	}
	if (contact) {
		struct sip_uri cu;
		if (strlen(contact) >= sizeof(g.contact) ||
		    sip_uri_parse(&cu, contact, strlen(contact), NULL) < 0 || strpbrk(contact, "<>\r\n")) {
			fprintf(stderr, "sipua register: --contact wants a URI\n");
			return 2;
		}
		snprintf(g.contact, sizeof(g.contact), "%s", contact);
	}
	if (g.unregister_only && g.once) {
		fprintf(stderr, "sipua register: --unregister and --once exclude each other\n");
		return 2;
	}
	cfg.user = user;
	cfg.auth_user = user;

	uv_loop_init(&g.loop);
	int rc = sip_ua_new(&g.ua, &g.loop, &cfg);
	if (rc < 0) {
		fprintf(stderr, "sipua register: %s\n", sip_strerror(rc));
		uv_loop_close(&g.loop);
		return 2;
	}
	uv_timer_init(&g.loop, &g.refresh);
	g.refresh.data = &g;
	uv_signal_init(&g.loop, &g.sigint);
	uv_signal_init(&g.loop, &g.sigterm);
	g.sigint.data = g.sigterm.data = &g;
	uv_signal_start(&g.sigint, on_signal, SIGINT);
	uv_signal_start(&g.sigterm, on_signal, SIGTERM);
	if (g.unregister_only) {
		g.state = REG_UNREGISTERING;
		send_register(&g, 0);
	} else {
		send_register(&g, g.expires);
	}
	while (g.state != REG_DONE && uv_run(&g.loop, UV_RUN_ONCE))
		;
	uv_close((uv_handle_t *)&g.refresh, NULL);
	uv_close((uv_handle_t *)&g.sigint, NULL);
	uv_close((uv_handle_t *)&g.sigterm, NULL);
	sip_ua_close(g.ua);
	uv_run(&g.loop, UV_RUN_DEFAULT);
	uv_loop_close(&g.loop);
	return g.exit_code;
}
