/* sipd — the SIP server. Command line, config file and wiring only: the
 * server itself is libsip's src/server. The command line overrides the file. */
#include <getopt.h>
#include <stdarg.h>
#include <sip/server.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipd.h"

static void usage(FILE *f)
{
	fputs("usage: sipd [options]\n"
	      "       sipd user add AOR PASSWORD | user del AOR | user list   [--db PATH]\n"
	      "\n"
	      "Starts the SIP server. With no options: registrar + proxy for domain localhost,\n"
	      "UDP and TCP on 127.0.0.1:5060, location and users in ./sipd.db.\n"
	      "\n"
	      "  -c, --config FILE       sipd.yaml to load (see docs/CONFIG.md)\n"
	      "  -l, --listen SPEC       udp|tcp|tls:HOST[:PORT], repeatable (IPv6: udp:[::1]:5060)\n"
	      "      --domain NAME       a domain we are responsible for, repeatable\n"
	      "      --db PATH           SQLite store for bindings and users (default ./sipd.db)\n"
	      "      --location sqlite|memory|redis://HOST[:PORT][/DB]\n"
	      "                             where bindings live (memory: not durable; redis: shared\n"
	      "                             by several sipd)\n"
	      "      --mode proxy|redirect\n"
	      "      --require-auth      require digest authentication, also on loopback\n"
	      "      --tls-cert FILE     PEM certificate for tls listeners\n"
	      "      --tls-key FILE      PEM private key for tls listeners\n"
	      "      --tls-ca FILE       trust anchors for outbound TLS\n"
	      "      --workers N         worker threads (default: one per core)\n"
	      "      --log-level LEVEL   error, warn, info (default) or debug\n"
	      "      --trace             print every message sent and received\n"
	      "  -h, --help              this text\n"
	      "  -V, --version           print the version\n",
	      f);
}

enum { OPT_DOMAIN = 256, OPT_DB, OPT_LOCATION, OPT_MODE, OPT_REQUIRE_AUTH, OPT_TLS_CERT, OPT_TLS_KEY, OPT_TLS_CA, OPT_WORKERS,
       OPT_LOG_LEVEL, OPT_TRACE };

static const struct option options[] = {
	{"config", required_argument, NULL, 'c'},      {"listen", required_argument, NULL, 'l'},
	{"domain", required_argument, NULL, OPT_DOMAIN}, {"db", required_argument, NULL, OPT_DB},
	{"location", required_argument, NULL, OPT_LOCATION},
	{"mode", required_argument, NULL, OPT_MODE},   {"require-auth", no_argument, NULL, OPT_REQUIRE_AUTH},
	{"tls-cert", required_argument, NULL, OPT_TLS_CERT}, {"tls-key", required_argument, NULL, OPT_TLS_KEY},
	{"tls-ca", required_argument, NULL, OPT_TLS_CA}, {"workers", required_argument, NULL, OPT_WORKERS},
	{"log-level", required_argument, NULL, OPT_LOG_LEVEL}, {"trace", no_argument, NULL, OPT_TRACE},
	{"help", no_argument, NULL, 'h'},              {"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "sipd: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	return 2;
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || v > max || s[0] == '-')
		return -1;
	*out = (unsigned)v;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "user"))
		return sipd_user_main(argc - 1, argv + 1);

	struct sip_server_config cfg;
	sip_server_config_defaults(&cfg);
	const char *config_file = NULL;
	/* First pass: the config file, so the command line can override it. */
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:l:hV", options, NULL)) != -1)
		if (c == 'c')
			config_file = optarg;
	char err[768];
	if (config_file && sip_server_config_load(&cfg, config_file, err, sizeof(err)) < 0) {
		fprintf(stderr, "sipd: %s\n", err);
		return 2;
	}
	/* Listen addresses and domains given on the command line replace the file's. */
	bool cli_listen = false, cli_domain = false;
	optind = 1;
	opterr = 1;
	int rc = 0;
	while ((c = getopt_long(argc, argv, "c:l:hV", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			break;
		case 'l':
			if (!cli_listen) {
				while (cfg.nlisten)
					free(cfg.listen[--cfg.nlisten]);
				cli_listen = true;
			}
			if (cfg.nlisten == SIP_SERVER_MAX_LISTEN) {
				rc = fail("too many listen addresses (at most %d)", SIP_SERVER_MAX_LISTEN);
				goto out;
			}
			cfg.listen[cfg.nlisten++] = strdup(optarg);
			break;
		case OPT_DOMAIN:
			if (!cli_domain) {
				while (cfg.ndomains)
					free(cfg.domains[--cfg.ndomains]);
				cli_domain = true;
			}
			if (cfg.ndomains == SIP_SERVER_MAX_DOMAINS) {
				rc = fail("too many domains (at most %d)", SIP_SERVER_MAX_DOMAINS);
				goto out;
			}
			cfg.domains[cfg.ndomains++] = strdup(optarg);
			break;
		case OPT_DB: sip_server_config_set_str(&cfg.db_path, optarg); break;
		case OPT_LOCATION:
			if (sip_server_config_set_location(&cfg, optarg) < 0) {
				rc = fail("--location: '%s' is not sqlite, memory or redis://HOST[:PORT][/DB]", optarg);
				goto out;
			}
			break;
		case OPT_MODE:
			if (!strcmp(optarg, "proxy")) {
				cfg.mode = SIP_MODE_PROXY;
			} else if (!strcmp(optarg, "redirect")) {
				cfg.mode = SIP_MODE_REDIRECT;
			} else {
				rc = fail("--mode: '%s' is not proxy or redirect", optarg);
				goto out;
			}
			break;
		case OPT_REQUIRE_AUTH: cfg.require_auth = true; break;
		case OPT_TLS_CERT: sip_server_config_set_str(&cfg.tls_cert, optarg); break;
		case OPT_TLS_KEY: sip_server_config_set_str(&cfg.tls_key, optarg); break;
		case OPT_TLS_CA: sip_server_config_set_str(&cfg.tls_ca, optarg); break;
		case OPT_WORKERS:
			if (parse_uint(optarg, SIP_SERVER_MAX_WORKERS, &cfg.workers) < 0 || cfg.workers == 0) {
				rc = fail("--workers: '%s' is not a number from 1 to 64", optarg);
				goto out;
			}
			break;
		case OPT_LOG_LEVEL:
			if (sip_log_level_parse(optarg, &cfg.log_level) < 0) {
				rc = fail("--log-level: '%s' is not error, warn, info or debug", optarg);
				goto out;
			}
			break;
		case OPT_TRACE: cfg.trace = true; break;
		case 'h':
			usage(stdout);
			goto out;
		case 'V':
			puts("sipd 0.1.0");
			goto out;
		default:
			usage(stderr);
			rc = 2;
			goto out;
		}
	}
	if (optind < argc) {
		rc = fail("unexpected argument '%s' (see sipd --help)", argv[optind]);
		goto out;
	}
	/* The embedded default (DESIGN.md §5). */
	if (cfg.nlisten == 0) {
		cfg.listen[cfg.nlisten++] = strdup("udp:127.0.0.1:5060");
		cfg.listen[cfg.nlisten++] = strdup("tcp:127.0.0.1:5060");
	}
	if (cfg.ndomains == 0)
		cfg.domains[cfg.ndomains++] = strdup("localhost");
	if (!cfg.db_path)
		sip_server_config_set_str(&cfg.db_path, "./sipd.db");
	if (sip_server_config_check(&cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "sipd: configuration: %s\n", err);
		rc = 2;
		goto out;
	}
	rc = sip_server_run(&cfg) < 0 ? 1 : 0;
out:
	sip_server_config_free(&cfg);
	return rc;
}
