/* sdp.h — session descriptions (RFC 4566) and the offer/answer model (RFC
 * 3264) as far as a signalling UA needs them: a strict, zero-copy parser
 * (slices into the caller's buffer, no heap) and an answer generator that
 * keeps every offered m-line in place, accepting the audio ones whose codecs
 * we share and rejecting the rest with port 0 (RFC 3264 §6). */
#ifndef SIP_SDP_H
#define SIP_SDP_H

#include <sip/core.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIP_SDP_MAX_MEDIA 16    /* m= lines */
#define SIP_SDP_MAX_FORMATS 32  /* formats on one m= line */
#define SIP_SDP_MAX_ATTRS 128   /* a= lines in all */
#define SIP_SDP_MAX_BYTES 65536 /* a description we parse */

enum sip_sdp_dir { SIP_SDP_SENDRECV = 0, SIP_SDP_SENDONLY, SIP_SDP_RECVONLY, SIP_SDP_INACTIVE };

struct sip_sdp_conn {
	struct sip_str nettype, addrtype, addr; /* "IN" "IP4" "192.0.2.1" (addr may carry /ttl) */
};

struct sip_sdp_media {
	struct sip_str type;  /* "audio", "video", ... */
	uint16_t port;
	uint16_t nports;      /* the /<number of ports>, 1 when absent */
	struct sip_str proto; /* "RTP/AVP" */
	struct sip_str fmt[SIP_SDP_MAX_FORMATS];
	unsigned nfmt;
	bool has_conn;
	struct sip_sdp_conn conn;
	enum sip_sdp_dir dir; /* its own a=sendrecv|sendonly|recvonly|inactive, else the session's */
};

struct sip_sdp_attr {
	struct sip_str name, value; /* value empty for a property attribute (a=recvonly) */
	int media;		    /* index of its m= section, -1 for session level */
};

struct sip_sdp {
	struct sip_str o_user, o_sess_id, o_sess_version; /* o= */
	struct sip_sdp_conn origin;
	struct sip_str name;		/* s= */
	struct sip_str t_start, t_stop; /* the first t= */
	bool has_conn;
	struct sip_sdp_conn conn; /* session-level c= */
	enum sip_sdp_dir dir;
	struct sip_sdp_media media[SIP_SDP_MAX_MEDIA];
	unsigned nmedia;
	struct sip_sdp_attr attr[SIP_SDP_MAX_ATTRS];
	unsigned nattr;
};

/* Parses one session description (RFC 4566 §5 order: v=0, o=, s=, [i= u=
 * e= p=] [c=] [b=] one or more t= [r=] [z=] [k=] [a=], then m= sections
 * with [i=] [c=] [b=] [k=] [a=]). Lines end in CRLF (a bare LF is taken
 * too); every m= needs a c= at its level or the session's. Returns 0;
 * SIP_EPARSE with *err_off (may be NULL) at the first bad byte (an unknown
 * type letter included: §5 says ignore the whole description); SIP_ETOOBIG
 * past a cap. */
SIP_API int sip_sdp_parse(struct sip_sdp *s, const char *buf, size_t len, size_t *err_off);

/* The value of media m's a=rtpmap for payload type fmt ("0 PCMU/8000"), or empty. */
SIP_API struct sip_str sip_sdp_rtpmap(const struct sip_sdp *s, unsigned m, struct sip_str fmt);
/* The rtpmap encoding name ("PCMU") of payload type fmt in media m, from its
 * a=rtpmap, else the RFC 3551 static name (0 PCMU, 8 PCMA, 9 G722, 18
 * G729), else empty. */
SIP_API struct sip_str sip_sdp_encoding(const struct sip_sdp *s, unsigned m, struct sip_str fmt);

struct sip_sdp_answer_opts {
	const char *addr;     /* our address for o= and c= ("192.0.2.5"); NULL: 0.0.0.0 */
	bool ipv6;	      /* addr is IPv6 */
	uint16_t port;	      /* our RTP port for an accepted stream; 0: 9 (discard) */
	bool inactive;	      /* accept, but no media flows (a=inactive) */
	const char *codecs;   /* encoding names we take, in our order of preference: "PCMU,PCMA" (NULL) */
	uint64_t sess_id;     /* o= session id and version */
};

/* Writes the answer to offer (RFC 3264 §6): the same m-lines in the same
 * order; an audio stream over RTP/AVP (or RTP/SAVP...) sharing a codec is
 * accepted with the shared formats in the offer's order and the mirrored
 * direction (or inactive); any other stream is rejected with port 0 and
 * its offered formats. t= as offered. Returns the length, SIP_ETOOBIG. */
SIP_API int sip_sdp_answer(const struct sip_sdp *offer, const struct sip_sdp_answer_opts *o, char *out,
			   size_t cap);
/* How many of the answer's m-lines accept their stream (port != 0). */
SIP_API unsigned sip_sdp_accepted(const struct sip_sdp *answer);

#ifdef __cplusplus
}
#endif
#endif
