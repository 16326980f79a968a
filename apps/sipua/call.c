/* sipua call URI / sipua answer --listen IP:PORT — one call, signalling only
 * (src/ua/call.c does the protocol). call: INVITE, ACK, BYE after --hold
 * seconds (or when the peer hangs up). answer: waits for one INVITE, rings,
 * answers (--code), and ends on the peer's BYE/CANCEL or its own BYE after
 * --hold. Exit 0 when the call went as asked, 1 when not, 2 on usage. */
#include <getopt.h>
#include <sip/ua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sipua.h"

struct run {
	struct sip_ua *ua;
	const char *refresh; /* call: "UPDATE" or "INVITE" once established, or NULL */
	int refreshed;	     /* its answer's status */
	bool established, ended;
	int end_status;
	bool by_peer;
	int want_code; /* answer: the final code asked for */
	bool done;
};

static void on_call(void *arg, const struct sip_ua_call_info *info)
{
	struct run *run = arg;
	if (info->event == SIP_UA_CALL_ESTABLISHED) {
		run->established = true;
		printf("established (%d)\n", info->status);
		if (run->refresh && sip_ua_refresh(run->ua, run->refresh) <= 0)
			fprintf(stderr, "sipua: could not send the %s\n", run->refresh);
	} else if (info->event == SIP_UA_CALL_REFRESHED) {
		run->refreshed = info->status;
		printf("refreshed (%s %d)\n", run->refresh ? run->refresh : "", info->status);
	} else {
		run->ended = true;
		run->end_status = info->status;
		run->by_peer = info->by_peer;
		run->done = true;
		if (info->by_peer)
			printf("ended: the peer hung up%s\n", info->status == 487 ? " (CANCEL)" : "");
		else
			printf("ended: %d%s%s\n", info->status, info->reason ? " " : "", info->reason ? info->reason : "");
	}
	fflush(stdout);
}

struct waiter {
	struct run *run;
	struct sip_ua *ua;
	bool hung_up;
};

/* Time is up: hang up what is going on (CANCEL, 480 or BYE) and give that
 * GRACE_MS to end; then stop. */
#define GRACE_MS 3000
static void on_timeout(uv_timer_t *t)
{
	struct waiter *w = t->data;
	if (!w->hung_up) {
		w->hung_up = true;
		fprintf(stderr, "sipua: timed out: hanging up\n");
		if (sip_ua_hangup(w->ua) > 0) {
			uv_timer_start(t, on_timeout, GRACE_MS, 0);
			return;
		}
	}
	w->run->done = true;
}

/* Runs the loop until the call is over or timeout_s passes. */
static void run_loop(uv_loop_t *loop, struct sip_ua *ua, struct run *run, unsigned timeout_s)
{
	uv_timer_t t;
	struct waiter w = {run, ua, false};
	uv_timer_init(loop, &t);
	t.data = &w;
	uv_timer_start(&t, on_timeout, (uint64_t)timeout_s * 1000, 0);
	while (!run->done && uv_run(loop, UV_RUN_ONCE))
		;
	uv_close((uv_handle_t *)&t, NULL);
	sip_ua_close(ua);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_loop_close(loop);
}

/* A UA on a fresh loop; NULL (the reason printed) when it cannot start. */
static struct sip_ua *open_ua(uv_loop_t *loop, const struct sip_ua_config *cfg, const char *cmd)
{
	struct sip_ua *ua;
	uv_loop_init(loop);
	int rc = sip_ua_new(&ua, loop, cfg);
	if (rc < 0) {
		fprintf(stderr, "sipua %s: %s\n", cmd, sip_strerror(rc));
		uv_loop_close(loop);
		return NULL;
	}
	return ua;
}

/* "127.0.0.1:5080" or "[::1]:5080" into ip and port. */
static bool split_listen(char *spec, const char **ip, uint16_t *port)
{
	char *colon = strrchr(spec, ':');
	if (!colon)
		return false;
	*colon = 0;
	char *end;
	unsigned long p = strtoul(colon + 1, &end, 10);
	if (*end || !p || p > 65535)
		return false;
	*port = (uint16_t)p;
	if (spec[0] == '[') {
		size_t n = strlen(spec);
		if (n < 3 || spec[n - 1] != ']')
			return false;
		spec[n - 1] = 0;
		spec++;
	}
	*ip = spec;
	return true;
}

int sipua_cmd_call(int argc, char **argv)
{
	static const struct option opts[] = {
		{"hold", required_argument, NULL, 'H'},	   {"user", required_argument, NULL, 'u'},
		{"password", required_argument, NULL, 'p'}, {"timeout", required_argument, NULL, 'T'},
		{"dns", required_argument, NULL, 'D'},	   {"refresh", required_argument, NULL, 'R'},
		{"tls-ca", required_argument, NULL, 'C'},   {"insecure", no_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},	   {NULL, 0, NULL, 0},
	};
	struct sip_ua_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	unsigned hold_s = 2, timeout_s = 60;
	const char *refresh = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'H': hold_s = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'u': cfg.user = optarg; break;
		case 'p': cfg.password = optarg; break;
		case 'T': timeout_s = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'D': cfg.dns_servers = optarg; break;
		case 'C': cfg.tls_ca_file = optarg; break;
		case 'k': cfg.tls_insecure_no_verify = true; break;
		case 'R':
			refresh = !strcasecmp(optarg, "update") ? "UPDATE" : !strcasecmp(optarg, "invite") ? "INVITE" : NULL;
			if (!refresh) {
				fprintf(stderr, "sipua call: --refresh is update or invite\n");
				return 2;
			}
			break;
		case 'h':
			puts("usage: sipua call URI [--hold S] [--refresh update|invite] [--user U --password P] [--timeout S]\n"
			     "                      [--dns HOST:PORT] [--tls-ca FILE] [--insecure]\n"
			     "  INVITE URI, ACK the answer, (UPDATE or re-INVITE it,) BYE after S seconds (0: wait for the\n"
			     "  peer's BYE)");
			return 0;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: sipua call URI [--hold S]\n");
		return 2;
	}
	uv_loop_t loop;
	struct sip_ua *ua = open_ua(&loop, &cfg, "call");
	if (!ua)
		return 2;
	struct run run = {.ua = ua, .refresh = refresh};
	int rc = sip_ua_call(ua, argv[optind], hold_s * 1000, on_call, &run);
	if (rc < 0) {
		fprintf(stderr, "sipua call: '%s': %s\n", argv[optind], sip_strerror(rc));
		run.done = true;
	}
	run_loop(&loop, ua, &run, timeout_s);
	if (rc < 0)
		return 2;
	/* A call that was answered (refreshed when asked) and then hung up cleanly. */
	bool refreshed = !refresh || (run.refreshed >= 200 && run.refreshed < 300);
	return run.established && refreshed && run.ended && (run.by_peer || run.end_status == 200) ? 0 : 1;
}

int sipua_cmd_answer(int argc, char **argv)
{
	static const struct option opts[] = {
		{"listen", required_argument, NULL, 'l'}, {"ring-ms", required_argument, NULL, 'r'},
		{"code", required_argument, NULL, 'c'},	  {"hold", required_argument, NULL, 'H'},
		{"user", required_argument, NULL, 'u'},	  {"timeout", required_argument, NULL, 'T'},
		{"100rel", no_argument, NULL, 'R'},	  {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct sip_ua_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	struct sip_ua_answer_opts ao = {.ring_ms = 500, .code = 200};
	unsigned timeout_s = 60, hold_s = 0;
	char *listen = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': listen = optarg; break;
		case 'r': ao.ring_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'c': ao.code = (int)strtol(optarg, NULL, 10); break;
		case 'H': hold_s = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'u': cfg.user = optarg; break;
		case 'T': timeout_s = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'R': ao.reliable_provisional = true; break;
		case 'h':
			puts("usage: sipua answer --listen IP:PORT [--ring-ms N] [--code N] [--hold S] [--100rel] [--user U] [--timeout S]\n"
			     "  answer one INVITE: 180, then after N ms the final code (200: the call, ended by\n"
			     "  the peer's BYE or ours after S seconds)");
			return 0;
		default:
			return 2;
		}
	}
	if (!listen || optind != argc || !split_listen(listen, &cfg.local_ip, &cfg.local_port)) {
		fprintf(stderr, "usage: sipua answer --listen IP:PORT [--ring-ms N] [--code N] [--hold S]\n");
		return 2;
	}
	uv_loop_t loop;
	struct sip_ua *ua = open_ua(&loop, &cfg, "answer");
	if (!ua)
		return 2;
	struct run run = {.want_code = ao.code};
	int rc;
	ao.hold_ms = hold_s * 1000;
	ao.cb = on_call;
	ao.arg = &run;
	if ((rc = sip_ua_answer(ua, &ao)) < 0) {
		fprintf(stderr, "sipua answer: --code must be 200..699\n");
		run.done = true;
	} else {
		printf("listening on %s\n", sip_ua_contact(ua));
		fflush(stdout);
	}
	run_loop(&loop, ua, &run, timeout_s);
	if (rc < 0)
		return 2;
	if (ao.code >= 300)
		return run.ended && run.end_status == ao.code ? 0 : 1;
	return run.established && run.ended && (run.by_peer || run.end_status == 200) ? 0 : 1;
}
