/* libFuzzer target: dialogs (src/dialog) built from and fed any message the
 * parser accepts. A request makes a UAS dialog; a response makes a UAC
 * dialog with a fixed INVITE. Every request the dialog then writes (BYE,
 * ACK, a re-INVITE) must parse back with the dialog's Call-ID, tags and
 * CSeq: a dialog that writes what the next hop cannot read is a bug. */
#include <sip/dialog.h>
#include <stdlib.h>
#include <string.h>

static const char invite[] = "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
			     "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
			     "To: <sip:bob@biloxi.example.com>\r\n"
			     "From: <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
			     "Call-ID: a84b4c76e66710\r\nCSeq: 314159 INVITE\r\n"
			     "Contact: <sip:alice@pc33.atlanta.example.com>\r\nContent-Length: 0\r\n\r\n";

static struct sip_msg m, inv, back;
static struct sip_dialog d;
static char out[SIP_DIALOG_ROUTES_MAX + 3 * SIP_DIALOG_URI_MAX + 4 * SIP_DIALOG_ID_MAX + 1024];

static void write_and_check(const char *method, uint32_t cseq)
{
	if (d.state == SIP_DIALOG_TERMINATED)
		return;
	uint32_t before = d.local_seq;
	struct sip_dialog_req r = {.method = sip_str_c(method), .cseq = cseq,
				   .via = SIP_STR("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKf"),
				   .contact = SIP_STR("sip:me@192.0.2.1")};
	int n = sip_dialog_request(&d, &r, out, sizeof(out));
	if (n == SIP_ETOOBIG || n == SIP_ERANGE)
		return;
	if (n < 0)
		abort(); /* a live dialog can always write within a buffer this big */
	if (sip_msg_parse(&back, out, (size_t)n, SIP_PARSE_STREAM, NULL) != n)
		abort();
	if (!sip_str_eq(back.call_id, sip_str_c(d.call_id)) || !sip_str_eq(back.from.tag, sip_str_c(d.local_tag)) ||
	    !sip_str_eq(back.to.tag, sip_str_c(d.remote_tag)))
		abort();
	if (back.cseq.num != (cseq ? cseq : before + 1))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (sip_msg_parse(&m, buf, size, SIP_PARSE_DATAGRAM | SIP_PARSE_VALIDATE, NULL) > 0) {
		int rc;
		if (m.is_request) {
			rc = sip_dialog_uas_create(&d, &m, SIP_STR("uas-tag"));
			if (rc == 0) {
				sip_dialog_confirm(&d);
				(void)sip_dialog_on_request(&d, &m);
			}
		} else {
			if (sip_msg_parse(&inv, invite, sizeof(invite) - 1, SIP_PARSE_DATAGRAM, NULL) <= 0)
				abort();
			rc = sip_dialog_uac_create(&d, &inv, &m);
			if (rc == 0) {
				char rack[128];
				(void)sip_dialog_prack_needed(&d, &m, rack, sizeof(rack));
				(void)sip_dialog_on_response(&d, &m);
			}
		}
		if (rc == 0) {
			if (d.nroutes > SIP_DIALOG_MAX_ROUTES)
				abort();
			write_and_check("ACK", 314159);
			write_and_check("INVITE", 0);
			write_and_check("BYE", 0);
		}
	}
	free(buf);
	return 0;
}
