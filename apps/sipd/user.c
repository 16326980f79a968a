/* user.c — `sipd user add AOR PASSWORD | del AOR | list [--db PATH]`: the
 * credential store. An AOR sip:alice@example.com is user "alice" in realm
 * "example.com" (sipd's realm for a domain is the domain). Only HA1 values
 * (MD5 and SHA-256) are stored, never the password. */
#include <sip/location.h>
#include <sip/uri.h>
#include <stdio.h>
#include <string.h>

#include "sipd.h"

static int usage(void)
{
	fputs("usage: sipd user add AOR PASSWORD [--db PATH]\n"
	      "       sipd user del AOR [--db PATH]\n"
	      "       sipd user list [--db PATH]\n"
	      "AOR is sip:user@domain (or user@domain); PATH defaults to ./sipd.db\n",
	      stderr);
	return 2;
}

/* Splits an AOR into user and realm (the domain). "alice@example.com" is
 * taken as sip:alice@example.com. Returns 0 or -1 with a message printed. */
static int split_aor(const char *aor, char *buf, size_t cap, struct sip_str *user, struct sip_str *realm)
{
	int n = strncmp(aor, "sip:", 4) && strncmp(aor, "sips:", 5) ? snprintf(buf, cap, "sip:%s", aor)
								  : snprintf(buf, cap, "%s", aor);
	struct sip_uri u;
	if (n <= 0 || (size_t)n >= cap || sip_uri_parse(&u, buf, (size_t)n, NULL) < 0 || !u.has_user ||
	    u.user.len == 0 || u.host.len == 0) {
		fprintf(stderr, "sipd user: '%s' is not an AOR like sip:alice@example.com\n", aor);
		return -1;
	}
	char plain[256];
	int ul = sip_unescape(u.user, plain, sizeof(plain));
	if (ul < 0 || memchr(plain, ':', (size_t)ul)) {
		fprintf(stderr, "sipd user: bad user part in '%s'\n", aor);
		return -1;
	}
	/* The user part unescaped (what a client puts in username=), the domain lower-cased. */
	memmove(buf, plain, (size_t)ul);
	char *r = buf + ul;
	for (size_t i = 0; i < u.host.len; i++)
		r[i] = (char)(u.host.p[i] >= 'A' && u.host.p[i] <= 'Z' ? u.host.p[i] + 32 : u.host.p[i]);
	*user = (struct sip_str){buf, (size_t)ul};
	*realm = (struct sip_str){r, u.host.len};
	return 0;
}

static int print_user(void *ud, struct sip_str user, struct sip_str realm)
{
	(void)ud;
	printf("sip:%.*s@%.*s\n", SIP_STR_ARG(user), SIP_STR_ARG(realm));
	return 0;
}

int sipd_user_main(int argc, char **argv)
{
	const char *db = "./sipd.db";
	const char *args[3];
	int nargs = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--db") && i + 1 < argc)
			db = argv[++i];
		else if (!strncmp(argv[i], "--db=", 5))
			db = argv[i] + 5;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return usage(), 0;
		else if (nargs < 3)
			args[nargs++] = argv[i];
		else
			return usage();
	}
	if (nargs == 0)
		return usage();
	const char *cmd = args[0];
	bool add = !strcmp(cmd, "add"), del = !strcmp(cmd, "del"), list = !strcmp(cmd, "list");
	if ((add && nargs != 3) || (del && nargs != 2) || (list && nargs != 1) || !(add || del || list))
		return usage();

	struct sip_users *users;
	int rc = sip_users_open(&users, db);
	if (rc < 0) {
		fprintf(stderr, "sipd user: cannot open '%s': %s\n", db, sip_strerror(rc));
		return 1;
	}
	char buf[1024];
	struct sip_str user, realm;
	if (list) {
		rc = sip_users_list(users, print_user, NULL);
	} else if (split_aor(args[1], buf, sizeof(buf), &user, &realm) < 0) {
		rc = 2;
	} else if (add) {
		rc = sip_users_add(users, user, realm, sip_str_c(args[2]));
		if (rc == 0)
			printf("added sip:%.*s@%.*s\n", SIP_STR_ARG(user), SIP_STR_ARG(realm));
	} else {
		rc = sip_users_del(users, user, realm);
		if (rc == 0)
			printf("deleted sip:%.*s@%.*s\n", SIP_STR_ARG(user), SIP_STR_ARG(realm));
		else if (rc == SIP_ENOTFOUND)
			fprintf(stderr, "sipd user: no such user '%s'\n", args[1]);
	}
	sip_users_close(users);
	if (rc == 2)
		return 2;
	if (rc < 0 && rc != SIP_ENOTFOUND)
		fprintf(stderr, "sipd user: %s\n", sip_strerror(rc));
	return rc == 0 ? 0 : 1;
}
