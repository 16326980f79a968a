/* sipua.h — private to apps/sipua: the command table's entries. Each command
 * gets argv starting at its own name and returns the process exit status
 * (0 success, 1 failure of the operation, 2 usage or I/O error). */
#ifndef SIPUA_H
#define SIPUA_H

struct sipua_cmd {
	const char *name;
	const char *args;  /* synopsis after the name, for usage */
	const char *help;  /* one line */
	int (*run)(int argc, char **argv);
};

/* sipua parse FILE|- : one raw SIP message in, JSON out (apps/sipua/parse.c). */
int sipua_cmd_parse(int argc, char **argv);
/* sipua options URI [--transport udp|tcp|tls]: OPTIONS ping (apps/sipua/options.c). */
int sipua_cmd_options(int argc, char **argv);
/* sipua register --user U --password P --registrar URI ...: registration (apps/sipua/register.c). */
int sipua_cmd_register(int argc, char **argv);
/* sipua call URI / sipua answer --listen IP:PORT: one call (apps/sipua/call.c). */
int sipua_cmd_call(int argc, char **argv);
int sipua_cmd_answer(int argc, char **argv);

#endif
