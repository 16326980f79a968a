/* user.c — `sipd user add|del|list`: arrives with the registrar (issue 4);
 * until then it says so and fails rather than pretend. */
#include <stdio.h>

#include "sipd.h"

int sipd_user_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "sipd: the user store comes with the registrar and digest authentication; "
			"no credentials were changed\n");
	return 2;
}
