/* sipua — command-line user agent. Arguments and wiring only: each command
 * is one row of the table below and lives in its own file. */
#include <stdio.h>
#include <string.h>

#include "sipua.h"

static const struct sipua_cmd cmds[] = {
	{"parse", "FILE|-", "parse one raw SIP message; print it as JSON (exit 0) or the error (exit 1)",
	 sipua_cmd_parse},
	{"options", "URI [--transport udp|tcp|tls]",
	 "OPTIONS ping: print the status line, Allow and Supported; exit 0 on 2xx (a health check)",
	 sipua_cmd_options},
	{"register", "--user U --password P --registrar URI [--expires N] [--unregister] [--once] [--transport udp|tcp|tls] [--contact URI]",
	 "register U at the registrar (digest auth), refresh until SIGINT/SIGTERM, then unregister; exit 0 on success",
	 sipua_cmd_register},
	{"call", "URI [--hold S] [--refresh update|invite] [--user U --password P] [--timeout S]",
	 "call URI: INVITE, ACK, BYE after S seconds (signalling only); exit 0 when answered and hung up cleanly",
	 sipua_cmd_call},
	{"answer", "--listen IP:PORT [--ring-ms N] [--code N] [--hold S] [--100rel] [--timeout S]",
	 "answer one call: 180, then the final code; exit 0 when it went as asked", sipua_cmd_answer},
};

static void usage(FILE *out)
{
	fputs("usage: sipua COMMAND [ARGS]\n       sipua --help\n\ncommands:\n", out);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(out, "  %s %s\n      %s\n", cmds[i].name, cmds[i].args, cmds[i].help);
	fputs("\nSee sipua(1).\n", out);
}

int main(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))) {
		usage(stdout);
		return 0;
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].run(argc - 1, argv + 1);
	fprintf(stderr, "sipua: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
