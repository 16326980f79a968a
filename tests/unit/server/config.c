/* sipd.yaml loading (src/server/config.c): the documented example loads with
 * the values it states; unknown keys, wrong types and out-of-range values are
 * refused with a message naming the file, the line or key, and the problem;
 * a refused file leaves nothing half-applied that the check would accept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sip/server.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SIP_SOURCE_DIR
#error "SIP_SOURCE_DIR must be defined by the build"
#endif

static char path[64];

static const char *write_yaml(const char *text)
{
	snprintf(path, sizeof path, "/tmp/sipd-config-test-%d.yaml", (int)getpid());
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* Loads text; returns the load result, the message in err. */
static int load(const char *text, struct sip_server_config *cfg, char *err, size_t cap)
{
	sip_server_config_defaults(cfg);
	err[0] = 0;
	int rc = sip_server_config_load(cfg, write_yaml(text), err, cap);
	unlink(path);
	return rc;
}

static void test_example_file(void **state)
{
	(void)state;
	struct sip_server_config cfg;
	char err[512];
	sip_server_config_defaults(&cfg);
	assert_int_equal(sip_server_config_load(&cfg, SIP_SOURCE_DIR "/docs/sipd.yaml.example", err, sizeof err), 0);
	assert_int_equal(cfg.ndomains, 2);
	assert_string_equal(cfg.domains[1], "example.com");
	assert_int_equal(cfg.min_expires, 60);
	assert_int_equal(cfg.max_expires, 86400);
	assert_int_equal(cfg.workers, 2);
	assert_int_equal(cfg.commit_window_ms, 0);
	assert_int_equal(cfg.udp_socket_buffer, 4194304);
	assert_false(cfg.tls_verify_clients);
	assert_string_equal(cfg.tls_client_ca, "/etc/sipd/clients-ca.pem");
	assert_false(cfg.location_memory);
	assert_true(cfg.record_route);
	assert_string_equal(cfg.dns_servers, "127.0.0.1:53");
	assert_int_equal(cfg.txn.t4_ms, 5000);
	assert_int_equal(cfg.timer_c_ms, 180000);
	sip_server_config_free(&cfg);
}

static void test_proxy_and_limit_keys(void **state)
{
	(void)state;
	struct sip_server_config cfg;
	char err[512];
	sip_server_config_defaults(&cfg);
	assert_true(cfg.record_route); /* on unless turned off */
	assert_null(cfg.dns_servers);
	sip_server_config_free(&cfg);
	assert_int_equal(load("proxy:\n  record_route: false\n  dns: \"[::1]:5353\"\n", &cfg, err, sizeof err), 0);
	assert_false(cfg.record_route);
	assert_string_equal(cfg.dns_servers, "[::1]:5353");
	sip_server_config_free(&cfg);
	assert_int_equal(load("limits:\n  rate_limit: 200\n  rate_limit_burst: 500\n", &cfg, err, sizeof err), 0);
	assert_int_equal(cfg.rate_limit, 200);
	assert_int_equal(cfg.rate_limit_burst, 500);
	assert_int_equal(cfg.auth_fail_burst, 20); /* the password-guessing guard is on by default */
	assert_int_equal(cfg.auth_fail_per_minute, 6);
	sip_server_config_free(&cfg);
	assert_int_equal(load("listen: [udp:127.0.0.1:5070]\nlimits:\n  auth_fail_burst: 5\n  auth_fail_per_minute: 0\n", &cfg,
			      err, sizeof err),
			 0);
	assert_int_equal(cfg.auth_fail_burst, 5);
	assert_int_equal(cfg.auth_fail_per_minute, 0); /* 0 turns it off: it must be settable */
	assert_int_equal(sip_server_config_check(&cfg, err, sizeof err), 0);
	cfg.auth_fail_per_minute = 1;
	cfg.auth_fail_burst = SIP_SERVER_MAX_AUTH_FAIL_BURST + 1;
	assert_int_equal(sip_server_config_check(&cfg, err, sizeof err), SIP_ECONFIG);
	assert_non_null(strstr(err, "auth_fail_burst"));
	sip_server_config_free(&cfg);
	assert_int_not_equal(load("proxy:\n  record_rout: true\n", &cfg, err, sizeof err), 0);
	assert_non_null(strstr(err, "record_rout"));
	sip_server_config_free(&cfg);
}

static void test_values_applied(void **state)
{
	(void)state;
	struct sip_server_config cfg;
	char err[512];
	assert_int_equal(load("listen: [udp:127.0.0.1:5070]\n"
			      "commit_window_ms: 5\n"
			      "location: memory\n"
			      "registrar:\n  min_expires: 30\n  default_expires: 600\n",
			      &cfg, err, sizeof err),
			 0);
	assert_int_equal(cfg.commit_window_ms, 5);
	assert_true(cfg.location_memory);
	assert_int_equal(cfg.min_expires, 30);
	assert_int_equal(cfg.default_expires, 600);
	assert_int_equal(cfg.nlisten, 1);
	assert_string_equal(cfg.listen[0], "udp:127.0.0.1:5070");
	assert_int_equal(sip_server_config_check(&cfg, err, sizeof err), 0);
	sip_server_config_free(&cfg);
}

static void test_unknown_key_names_line(void **state)
{
	(void)state;
	struct sip_server_config cfg;
	char err[512];
	assert_true(load("log_level: info\n"
			 "registrar:\n"
			 "  min_expires: 60\n"
			 "  min_expire: 30\n",
			 &cfg, err, sizeof err) < 0);
	assert_non_null(strstr(err, "line 4"));
	assert_non_null(strstr(err, "unknown key"));
	assert_non_null(strstr(err, "min_expire"));
	sip_server_config_free(&cfg);
}

static void test_wrong_type_and_values(void **state)
{
	(void)state;
	struct sip_server_config cfg;
	char err[512];
	/* A string where a number goes: libcyaml's report, with its position. */
	assert_true(load("workers: many\n", &cfg, err, sizeof err) < 0);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "line"));
	sip_server_config_free(&cfg);
	assert_true(load("location: redis\n", &cfg, err, sizeof err) < 0);
	assert_non_null(strstr(err, "location: 'redis' is not sqlite, memory or redis://"));
	sip_server_config_free(&cfg);
	assert_true(load("location: redis://h:99999\n", &cfg, err, sizeof err) < 0);
	sip_server_config_free(&cfg);
	assert_int_equal(load("location: redis://127.0.0.1:6390/3\n", &cfg, err, sizeof err), 0);
	assert_string_equal(cfg.location_redis, "redis://127.0.0.1:6390/3");
	assert_false(cfg.location_memory);
	sip_server_config_free(&cfg);
	assert_true(load("registrar:\n  algorithms: [MD4]\n", &cfg, err, sizeof err) < 0);
	assert_non_null(strstr(err, "'MD4'"));
	sip_server_config_free(&cfg);
}

static void test_check_bounds(void **state)
{
	(void)state;
	struct sip_server_config cfg;
	char err[512];
	assert_int_equal(load("listen: [udp:127.0.0.1]\ncommit_window_ms: 1001\n", &cfg, err, sizeof err), 0);
	assert_true(sip_server_config_check(&cfg, err, sizeof err) < 0);
	assert_non_null(strstr(err, "commit_window_ms: at most 1000"));
	sip_server_config_free(&cfg);
	assert_int_equal(load("listen: [udp:127.0.0.1]\nlimits:\n  udp_socket_buffer: 1000\n", &cfg, err, sizeof err), 0);
	assert_true(sip_server_config_check(&cfg, err, sizeof err) < 0);
	assert_non_null(strstr(err, "limits.udp_socket_buffer: 1000"));
	sip_server_config_free(&cfg);
	assert_int_equal(load("listen: [udp:127.0.0.1]\ntls: {verify_clients: true}\n", &cfg, err, sizeof err), 0);
	assert_true(sip_server_config_check(&cfg, err, sizeof err) < 0);
	assert_non_null(strstr(err, "tls.verify_clients needs tls.client_ca"));
	sip_server_config_free(&cfg);
	assert_int_equal(load("listen: [udp:127.0.0.1]\nregistrar:\n  min_expires: 7200\n", &cfg, err, sizeof err), 0);
	assert_true(sip_server_config_check(&cfg, err, sizeof err) < 0);
	assert_non_null(strstr(err, "min_expires <= default_expires"));
	sip_server_config_free(&cfg);
	assert_int_equal(load("listen: [sctp:127.0.0.1]\n", &cfg, err, sizeof err), 0);
	assert_true(sip_server_config_check(&cfg, err, sizeof err) < 0);
	assert_non_null(strstr(err, "sctp:127.0.0.1"));
	sip_server_config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_file),
		cmocka_unit_test(test_proxy_and_limit_keys),
		cmocka_unit_test(test_values_applied),
		cmocka_unit_test(test_unknown_key_names_line),
		cmocka_unit_test(test_wrong_type_and_values),
		cmocka_unit_test(test_check_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
