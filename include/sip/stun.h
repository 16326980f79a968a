/* stun.h — the STUN Binding responder (RFC 5389) that RFC 5626 §4.4.2
 * keep-alives need: an outbound UA sends Binding requests over its UDP flow
 * to the SIP port and watches the mapped address in the answer to detect a
 * NAT rebinding. Sans-I/O; the transport demultiplexes (a STUN message starts
 * with two zero bits, a SIP message with a letter or CR/LF). */
#ifndef SIP_STUN_H
#define SIP_STUN_H

#include <sip/core.h>
#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIP_STUN_HEADER 20
#define SIP_STUN_MAGIC 0x2112A442u
#define SIP_STUN_RESPONSE_MAX 64 /* header + XOR-MAPPED-ADDRESS (IPv6) + FINGERPRINT */

/* Whether buf is a well-formed STUN message header (RFC 5389 §6: top bits
 * zero, length a multiple of 4 matching len, the magic cookie) — i.e. not
 * SIP. */
SIP_API bool sip_stun_is_message(const uint8_t *buf, size_t len);

/* Writes the Binding success response to the Binding request req (same
 * transaction id) with XOR-MAPPED-ADDRESS = src (IPv4 or IPv6) and a
 * FINGERPRINT. Returns its length; SIP_EINVAL when req is not a Binding
 * request (other STUN messages get no answer) or src is of another family;
 * SIP_ETOOBIG when cap < SIP_STUN_RESPONSE_MAX. */
SIP_API int sip_stun_binding_response(const uint8_t *req, size_t len, const struct sockaddr *src, uint8_t *out,
				      size_t cap);

/* CRC-32 (ISO-HDLC, as FINGERPRINT uses, RFC 5389 §15.5) of buf. */
SIP_API uint32_t sip_stun_crc32(const uint8_t *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
