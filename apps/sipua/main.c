/* sipua — command-line user agent. Arguments and wiring only. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		puts("usage: sipua parse FILE|-");
		return argc < 2 ? 2 : 0;
	}
	fprintf(stderr, "sipua: unknown command '%s'\n", argv[1]);
	return 2;
}
