/* sipua options URI [--transport udp|tcp|tls] — an OPTIONS ping (RFC 3261
 * §11): prints the status line, Allow and Supported; exits 0 on 2xx, 1 on
 * any other answer or none, 2 on usage errors. Usable as a health check. */
#include <getopt.h>
#include <sip/msg.h>
#include <sip/ua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipua.h"

struct run {
	int status;
	int done;
};

static void print_values(const struct sip_msg *m, enum sip_hdr_id id, const char *name)
{
	struct sip_hdr_iter it;
	struct sip_str v;
	int n = 0;
	sip_hdr_iter_init(&it, m, id);
	printf("%s:", name);
	while (sip_hdr_iter_next(&it, &v) == 1)
		printf("%s %.*s", n++ ? "," : "", SIP_STR_ARG(v));
	printf("\n");
}

static void on_done(void *arg, const struct sip_ua_result *r)
{
	struct run *run = arg;
	run->status = r->status;
	run->done = 1;
	if (r->msg) {
		printf("%.*s\n", SIP_STR_ARG(r->msg->start_line));
		print_values(r->msg, SIP_HDR_ALLOW, "Allow");
		print_values(r->msg, SIP_HDR_SUPPORTED, "Supported");
	} else {
		printf("SIP/2.0 %d (local) %s\n", r->status, r->error ? r->error : "");
	}
	/* The target's own transport may differ from the one used (MTU rule). */
	const char *colon = strchr(r->target, ':');
	fprintf(stderr, "sipua: %d over %s from %s\n", r->status, sip_transport_type_name(r->transport),
		colon ? colon + 1 : "(no target)");
}

int sipua_cmd_options(int argc, char **argv)
{
	static const struct option opts[] = {
		{"transport", required_argument, NULL, 't'}, {"header", required_argument, NULL, 'H'},
		{"tls-ca", required_argument, NULL, 'C'},    {"insecure", no_argument, NULL, 'k'},
		{"dns", required_argument, NULL, 'D'},       {"t1", required_argument, NULL, '1'},
		{"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0},
	};
	struct sip_ua_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	struct sip_ua_request req;
	memset(&req, 0, sizeof(req));
	req.method = "OPTIONS";
	char headers[16384] = "";
	size_t hl = 0;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "t:H:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			req.transport = sip_transport_type_parse(sip_str_c(optarg));
			if (!req.transport) {
				fprintf(stderr, "sipua options: --transport must be udp, tcp or tls\n");
				return 2;
			}
			break;
		case 'H': {
			size_t n = strlen(optarg);
			if (hl + n + 3 > sizeof(headers) || !strchr(optarg, ':') || strpbrk(optarg, "\r\n")) {
				fprintf(stderr, "sipua options: --header wants one 'Name: value' (total under 16 KiB)\n");
				return 2;
			}
			memcpy(headers + hl, optarg, n);
			memcpy(headers + hl + n, "\r\n", 3);
			hl += n + 2;
			break;
		}
		case 'C': cfg.tls_ca_file = optarg; break;
		case 'k': cfg.tls_insecure_no_verify = true; break;
		case 'D': cfg.dns_servers = optarg; break;
		case '1': cfg.txn.t1_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'h':
			puts("usage: sipua options URI [--transport udp|tcp|tls] [--header 'Name: value']...\n"
			     "                     [--tls-ca FILE] [--insecure] [--dns HOST:PORT] [--t1 MS]");
			return 0;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: sipua options URI [--transport udp|tcp|tls]\n");
		return 2;
	}
	req.uri = argv[optind];
	req.headers = hl ? headers : NULL;

	uv_loop_t loop;
	uv_loop_init(&loop);
	struct sip_ua *ua;
	int rc = sip_ua_new(&ua, &loop, &cfg);
	if (rc < 0) {
		fprintf(stderr, "sipua options: %s\n", sip_strerror(rc));
		uv_loop_close(&loop);
		return 2;
	}
	struct run run = {0, 0};
	rc = sip_ua_send(ua, &req, on_done, &run);
	if (rc < 0)
		fprintf(stderr, "sipua options: '%s': %s\n", req.uri, sip_strerror(rc));
	else
		while (!run.done && uv_run(&loop, UV_RUN_ONCE))
			;
	sip_ua_close(ua);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	if (rc < 0)
		return 2;
	return run.status >= 200 && run.status < 300 ? 0 : 1;
}
