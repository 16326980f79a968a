/* tls.c — TLS over the TCP connections with OpenSSL 3 memory BIOs: libuv
 * moves ciphertext, OpenSSL never touches the socket. Outbound connections
 * check the peer certificate against the target host (RFC 5922). */
#include "tp_int.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>
#include <string.h>

/* Listeners of a mutual-TLS transport: a client certificate that verifies
 * against the client CA file is required; its CA names are sent in the
 * CertificateRequest so clients with several certificates pick the right one. */
static int require_client_cert(const struct sip_transport_config *cfg, SSL_CTX *srv)
{
	const char *ca = cfg->tls_client_ca_file ? cfg->tls_client_ca_file : cfg->tls_ca_file;
	if (!srv || !ca || SSL_CTX_load_verify_locations(srv, ca, NULL) != 1)
		return SIP_ECONFIG;
	STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca);
	if (!names)
		return SIP_ECONFIG;
	SSL_CTX_set_client_CA_list(srv, names);
	SSL_CTX_set_verify(srv, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	return 0;
}

/* Builds the server context (when cfg has a certificate) and the client
 * context from the files cfg names, read now. Both or neither: on failure
 * nothing is returned. */
static int build_contexts(const struct sip_transport_config *cfg, SSL_CTX **srv_out, SSL_CTX **cli_out)
{
	SSL_CTX *srv = NULL, *cli = NULL;
	if (!!cfg->tls_cert_file != !!cfg->tls_key_file)
		return SIP_ECONFIG;
	if (cfg->tls_cert_file) {
		srv = SSL_CTX_new(TLS_server_method());
		if (!srv)
			goto fail;
		SSL_CTX_set_min_proto_version(srv, TLS1_2_VERSION);
		if (SSL_CTX_use_certificate_chain_file(srv, cfg->tls_cert_file) != 1 ||
		    SSL_CTX_use_PrivateKey_file(srv, cfg->tls_key_file, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(srv) != 1)
			goto fail;
	}
	if (cfg->tls_require_client_cert && require_client_cert(cfg, srv) != 0)
		goto fail;
	cli = SSL_CTX_new(TLS_client_method());
	if (!cli)
		goto fail;
	SSL_CTX_set_min_proto_version(cli, TLS1_2_VERSION);
	/* Our certificate for servers that ask for one (mutual TLS between proxies). */
	if (cfg->tls_cert_file &&
	    (SSL_CTX_use_certificate_chain_file(cli, cfg->tls_cert_file) != 1 ||
	     SSL_CTX_use_PrivateKey_file(cli, cfg->tls_key_file, SSL_FILETYPE_PEM) != 1 ||
	     SSL_CTX_check_private_key(cli) != 1))
		goto fail;
	if (cfg->tls_ca_file) {
		if (SSL_CTX_load_verify_locations(cli, cfg->tls_ca_file, NULL) != 1)
			goto fail;
	} else if (SSL_CTX_load_verify_dir(cli, X509_get_default_cert_dir()) != 1) {
		/* The hashed directory is read lazily per lookup; the bundle file would be
		 * parsed whole for every transport (one per worker). */
		SSL_CTX_set_default_verify_paths(cli);
	}
	SSL_CTX_set_verify(cli, cfg->tls_insecure_no_verify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
	*srv_out = srv;
	*cli_out = cli;
	return 0;
fail:
	ERR_clear_error();
	SSL_CTX_free(srv);
	SSL_CTX_free(cli);
	return SIP_ECONFIG;
}

/* Copies the TLS file names into the transport and points cfg at the
 * copies: the caller's strings need not outlive sip_transport_new(). */
static int keep_paths(struct sip_transport *t)
{
	const char **names[] = {&t->cfg.tls_cert_file, &t->cfg.tls_key_file, &t->cfg.tls_ca_file,
				&t->cfg.tls_client_ca_file};
	_Static_assert(sizeof(names) / sizeof(names[0]) == sizeof(t->tls_paths) / sizeof(t->tls_paths[0]),
		       "one copy per TLS file name");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!*names[i])
			continue;
		if (!(t->tls_paths[i] = sip_memdup_str(*names[i], strlen(*names[i]))))
			return SIP_ENOMEM;
		*names[i] = t->tls_paths[i];
	}
	return 0;
}

static void free_contexts(struct sip_transport *t)
{
	SSL_CTX_free(t->srv_ctx);
	SSL_CTX_free(t->cli_ctx);
	t->srv_ctx = t->cli_ctx = NULL;
}

int sip__tls_init(struct sip_transport *t)
{
	int rc = keep_paths(t);
	return rc < 0 ? rc : build_contexts(&t->cfg, &t->srv_ctx, &t->cli_ctx);
}

int sip_transport_tls_reload(struct sip_transport *t)
{
	SSL_CTX *srv, *cli;
	int rc = build_contexts(&t->cfg, &srv, &cli);
	if (rc < 0)
		return rc;
	/* Open connections hold references to the contexts they were made
	 * from (SSL_new takes one) and go on with them. */
	free_contexts(t);
	t->srv_ctx = srv;
	t->cli_ctx = cli;
	return 0;
}

void sip__tls_free(struct sip_transport *t)
{
	free_contexts(t);
	for (size_t i = 0; i < sizeof(t->tls_paths) / sizeof(t->tls_paths[0]); i++) {
		sip_free(t->tls_paths[i]);
		t->tls_paths[i] = NULL;
	}
}

/* Moves OpenSSL's ciphertext output to the socket. */
static int flush(struct sip__conn *c, void *ctx)
{
	char tmp[SIP__READ_CHUNK];
	while (BIO_ctrl_pending(c->wbio) > 0) {
		int n = BIO_read(c->wbio, tmp, sizeof(tmp));
		if (n <= 0)
			break;
		int rc = sip__stream_wire(c, tmp, (size_t)n, ctx);
		if (rc)
			return rc;
	}
	return 0;
}

static void handshake(struct sip__conn *c)
{
	int r = SSL_do_handshake(c->ssl);
	if (flush(c, NULL)) {
		sip__conn_fail(c, SIP_TP_ERR_CONNECT, SIP_EIO, 0, "TLS write failed");
		return;
	}
	if (r == 1) {
		sip__conn_ready(c);
		return;
	}
	int e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return;
	long vr = SSL_get_verify_result(c->ssl);
	ERR_clear_error();
	if (vr != X509_V_OK)
		sip__conn_fail(c, SIP_TP_ERR_CONNECT, SIP_EAUTH, 0, X509_verify_cert_error_string(vr));
	else
		sip__conn_fail(c, SIP_TP_ERR_CONNECT, SIP_EIO, 0, "TLS handshake failed");
}

int sip__tls_start(struct sip__conn *c, bool server)
{
	struct sip_transport *t = c->t;
	c->ssl = SSL_new(server ? t->srv_ctx : t->cli_ctx);
	if (!c->ssl)
		goto fail;
	c->rbio = BIO_new(BIO_s_mem());
	c->wbio = BIO_new(BIO_s_mem());
	if (!c->rbio || !c->wbio) {
		BIO_free(c->rbio);
		BIO_free(c->wbio);
		goto fail;
	}
	BIO_set_mem_eof_return(c->rbio, -1); /* empty means "wait for more", not EOF */
	SSL_set_bio(c->ssl, c->rbio, c->wbio);
	if (server) {
		SSL_set_accept_state(c->ssl);
		return 0; /* the ClientHello drives the rest */
	}
	SSL_set_connect_state(c->ssl);
	unsigned char ip[16];
	bool is_ip = inet_pton(AF_INET, c->tls_host, ip) == 1 || inet_pton(AF_INET6, c->tls_host, ip) == 1;
	if (!is_ip)
		SSL_set_tlsext_host_name(c->ssl, c->tls_host); /* SNI takes names only */
	if (!t->cfg.tls_insecure_no_verify) {
		/* RFC 5922 §7.1: match subjectAltName DNS (or IP) against the target, no partial wildcards. */
		X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);
		X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, c->tls_host) : SSL_set1_host(c->ssl, c->tls_host);
		if (ok != 1)
			goto fail;
	}
	handshake(c);
	return 0;
fail:
	ERR_clear_error();
	return SIP_EIO;
}

void sip__tls_on_cipher(struct sip__conn *c, const char *buf, size_t len)
{
	if (BIO_write(c->rbio, buf, (int)len) != (int)len) {
		sip__conn_fail(c, SIP_TP_ERR_CLOSED, SIP_ENOMEM, 0, "TLS buffer");
		return;
	}
	if (!c->ready) {
		handshake(c);
		if (!c->ready || c->closing)
			return;
	}
	bool peer_closed = false;
	for (;;) {
		int room = sip__conn_room(c, SIP__READ_CHUNK);
		if (room <= 0)
			break;
		int n = SSL_read(c->ssl, c->rbuf + c->rlen, room);
		if (n > 0) {
			c->rlen += (size_t)n;
			continue;
		}
		int e = SSL_get_error(c->ssl, n);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			break;
		ERR_clear_error();
		peer_closed = true;
		break;
	}
	flush(c, NULL); /* post-handshake messages (tickets, key updates) */
	sip__stream_on_plain(c);
	if (peer_closed && !c->closing)
		sip__conn_fail(c, SIP_TP_ERR_CLOSED, SIP_EIO, 0, "TLS connection closed by peer");
}

int sip__tls_write(struct sip__conn *c, const char *buf, size_t len, void *ctx)
{
	if (len > INT32_MAX)
		return SIP_ETOOBIG;
	int r = SSL_write(c->ssl, buf, (int)len);
	if (r <= 0) {
		ERR_clear_error();
		return SIP_EIO;
	}
	return flush(c, ctx);
}

void sip__tls_shutdown(struct sip__conn *c)
{
	if (c->ready && !(SSL_get_shutdown(c->ssl) & SSL_SENT_SHUTDOWN))
		SSL_shutdown(c->ssl); /* queue close_notify; we do not wait for the peer's */
	ERR_clear_error();
	flush(c, NULL);
}
