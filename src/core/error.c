/* error.c — text for the sip_err codes. */
#include <sip/core.h>

const char *sip_strerror(int err)
{
	switch (err) {
	case SIP_OK: return "success";
	case SIP_EINVAL: return "invalid argument";
	case SIP_ENOMEM: return "out of memory";
	case SIP_EAGAIN: return "incomplete input";
	case SIP_EPARSE: return "malformed input";
	case SIP_ERANGE: return "number out of range";
	case SIP_ETOOBIG: return "size or count limit exceeded";
	case SIP_EVERSION: return "unsupported SIP version";
	case SIP_ENOTFOUND: return "not found";
	case SIP_EIO: return "I/O error";
	case SIP_ESTATE: return "invalid state";
	case SIP_ETIMEDOUT: return "timed out";
	case SIP_EUNSUPPORTED: return "unsupported";
	case SIP_ECONFIG: return "bad configuration";
	case SIP_EAUTH: return "authentication failed";
	}
	return "unknown error";
}
