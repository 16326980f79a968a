/* sipd.h — private to the sipd program. */
#ifndef SIPD_APP_H
#define SIPD_APP_H

/* `sipd user add|del|list`: the credential store (argv[0] is "user"). */
int sipd_user_main(int argc, char **argv);

#endif
