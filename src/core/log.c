/* log.c — levelled one-line logging and message tracing to stderr.
 * Each line is formatted into a local buffer and written with one write()
 * so lines from several worker threads never interleave. */
#include <sip/log.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int level = SIP_LOG_INFO;
static atomic_bool trace;

void sip_log_set_level(enum sip_log_level lvl) { atomic_store(&level, (int)lvl); }
enum sip_log_level sip_log_get_level(void) { return (enum sip_log_level)atomic_load(&level); }
void sip_log_set_trace(bool on) { atomic_store(&trace, on); }
bool sip_log_trace_enabled(void) { return atomic_load(&trace); }

static const char *const names[] = {"error", "warn", "info", "debug"};

int sip_log_level_parse(const char *s, enum sip_log_level *out)
{
	for (int i = 0; i < 4; i++)
		if (s && !strcmp(s, names[i])) {
			*out = (enum sip_log_level)i;
			return 0;
		}
	return SIP_EINVAL;
}

static size_t stamp(char *buf, size_t cap)
{
	/* Wall-clock time is only for humans reading the log, never for protocol logic. */
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	int k = snprintf(buf + n, cap - n, ".%03ldZ", ts.tv_nsec / 1000000);
	return n + (k > 0 ? (size_t)k : 0);
}

static void emit(const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, buf, n);
		if (w <= 0)
			return;
		buf += w;
		n -= (size_t)w;
	}
}

void sip_log(enum sip_log_level lvl, const char *fmt, ...)
{
	if (!sip_log_enabled(lvl))
		return;
	char line[2048];
	size_t n = stamp(line, sizeof(line));
	int k = snprintf(line + n, sizeof(line) - n, " %-5s ", names[lvl]);
	n += k > 0 ? (size_t)k : 0;
	va_list ap;
	va_start(ap, fmt);
	k = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (k > 0)
		n += (size_t)k < sizeof(line) - n - 1 ? (size_t)k : sizeof(line) - n - 2;
	/* One event, one line: newlines inside the text are flattened. */
	for (size_t i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[n++] = '\n';
	emit(line, n);
}

void sip_log_trace(const char *dir, const char *transport, const char *peer, const char *buf, size_t len)
{
	if (!sip_log_trace_enabled())
		return;
	char head[256];
	size_t n = stamp(head, sizeof(head));
	int k = snprintf(head + n, sizeof(head) - n, " trace %s %s %s %zu bytes\n", dir, transport, peer, len);
	n += k > 0 ? (size_t)k : 0;
	if (n > sizeof(head))
		n = sizeof(head);
	/* Header and message in one write so traces from two workers don't mix. */
	char out[8192];
	size_t m = len < sizeof(out) - n - 2 ? len : sizeof(out) - n - 2;
	memcpy(out, head, n);
	memcpy(out + n, buf, m);
	out[n + m] = '\n';
	emit(out, n + m + 1);
}
