/* sipd — the SIP server. Arguments, config and wiring only. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			puts("usage: sipd [options]   (the server arrives with the transport layer)");
			return 0;
		}
	fprintf(stderr, "sipd: the server is not built yet: it comes with the transport and "
			"transaction layers (issue 3). Nothing was started.\n");
	return 2;
}
