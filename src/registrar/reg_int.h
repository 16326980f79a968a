/* reg_int.h — registrar internals shared by registrar.c (steps 1-5),
 * contacts.c (steps 6-7) and response.c (responses). */
#ifndef SIP_REGISTRAR_INT_H
#define SIP_REGISTRAR_INT_H

#include <sip/print.h>
#include <sip/registrar.h>

struct reg_domain {
	char name[SIP_REGISTRAR_MAX_DOMAIN_LEN + 1];
	char realm[SIP_REGISTRAR_MAX_DOMAIN_LEN + 1];
	size_t name_len, realm_len;
};

/* One Contact value of the request, validated (step 6). */
struct reg_contact {
	struct sip_str value;	 /* the whole header value as sent */
	struct sip_str uri;	 /* the contact URI exactly as sent */
	struct sip_str instance; /* +sip.instance raw value; empty when absent or not outbound */
	uint32_t reg_id;	 /* 0 when absent or ignored */
	int32_t q;
	uint32_t expires; /* granted seconds; 0 removes */
};

/* What one REGISTER asks for, gathered before anything is written. */
struct reg_req {
	const struct sip_msg *m;
	struct sip_str aor; /* canonical, in reg->aor_buf */
	struct sip_str aor_user, aor_host;
	struct sip_str path;	 /* joined Path values to store; empty if none */
	struct sip_str received; /* source to store; empty if none */
	struct sip_str user_agent;
	bool star; /* Contact: * */
	bool client_path, client_outbound;
	bool outbound_used; /* a contact had +sip.instance and reg-id */
	size_t ncontacts;
};

struct sip_registrar {
	struct sip_registrar_config cfg; /* defaults applied; domains points into dom */
	struct sip_location *loc;
	struct reg_domain dom[SIP_REGISTRAR_MAX_DOMAINS];
	size_t ndom;
	struct reg_contact *contacts; /* cfg.max_contacts entries */
	char *aor_buf;		      /* cfg.max_aor_len bytes */
	char path_buf[SIP_LOCATION_MAX_FIELD];
	char received_buf[128];
	struct sip_digest_creds creds;
};

/* The domain whose name equals host (case-insensitive), or NULL. */
const struct reg_domain *sip__reg_domain(const struct sip_registrar *reg, struct sip_str host);

/* Step 6: reads and checks every Contact (and Expires, Path, Supported) into
 * reg->contacts / rq. Returns 0, or the error status (400, 423) to answer
 * with *reason set. */
int sip__reg_contacts(struct sip_registrar *reg, struct reg_req *rq, const struct sip_registrar_src *src,
		      const char **reason);

/* Step 7 + 8: applies the contacts atomically and writes the final response.
 * Returns what sip_registrar_handle() returns. */
int sip__reg_apply(struct sip_registrar *reg, struct reg_req *rq, int64_t now, char *out, size_t cap,
		   struct sip_registrar_result *res);

/* Starts a response to m: status line, Via..CSeq with our To tag, Date. */
void sip__reg_head(struct sip_builder *b, const struct sip_msg *m, int status, const char *reason,
		   int64_t now);
/* Finishes a response (Content-Length: 0, blank line) into res; 0 or SIP_ETOOBIG. */
int sip__reg_finish(struct sip_builder *b, int status, struct sip_registrar_result *res);
/* Writes a bare error response (plus an optional extra header) into out. */
int sip__reg_simple(const struct sip_msg *m, int status, const char *reason, const char *hname,
		    struct sip_str hvalue, int64_t now, char *out, size_t cap,
		    struct sip_registrar_result *res);
/* Writes "Date: ..." value (RFC 1123, GMT) for now into buf (>= 30 bytes); returns its length. */
size_t sip__reg_date(int64_t now, char *buf, size_t cap);

#endif
