/* users.c — the credential store: one row per (username, realm) holding the
 * MD5 and SHA-256 HA1s, in the same SQLite file as the bindings. Passwords
 * are never stored; a stolen file gives HA1s, which authenticate only in
 * that realm (RFC 7616 §5.1). */
#include <sqlite3.h>
#include <string.h>

#include "core/ctype.h"
#include "location/sqlite_int.h"
#include <sip/location.h>

enum { U_SET, U_DEL, U_DEL_ALL, U_LIST, U_GET, U__COUNT };

static const char *const usql[U__COUNT] = {
	[U_SET] = "INSERT OR REPLACE INTO users (username, realm, ha1_md5, ha1_sha256) VALUES (?1, ?2, ?3, ?4)",
	[U_DEL] = "DELETE FROM users WHERE username = ?1 AND realm = ?2",
	[U_DEL_ALL] = "DELETE FROM users WHERE username = ?1",
	[U_LIST] = "SELECT username, realm FROM users ORDER BY username, realm",
	[U_GET] = "SELECT ha1_md5, ha1_sha256 FROM users WHERE username = ?1 AND realm = ?2",
};

static const char uschema[] = "CREATE TABLE IF NOT EXISTS users (username TEXT NOT NULL, realm TEXT NOT NULL,"
			      " ha1_md5 TEXT NOT NULL, ha1_sha256 TEXT NOT NULL, PRIMARY KEY (username, realm));";

struct sip_users {
	sqlite3 *db;
	sqlite3_stmt *st[U__COUNT];
};

void sip_users_close(struct sip_users *u)
{
	if (!u)
		return;
	for (int i = 0; i < U__COUNT; i++)
		sqlite3_finalize(u->st[i]);
	sqlite3_close(u->db);
	sip_free(u);
}

int sip_users_open(struct sip_users **out, const char *path)
{
	if (!out)
		return SIP_EINVAL;
	*out = NULL;
	struct sip_users *u = sip_calloc(1, sizeof *u);
	if (!u)
		return SIP_ENOMEM;
	if (sip__sqlite_open(&u->db, path, uschema) != 0) {
		sip_free(u);
		return SIP_EIO;
	}
	for (int i = 0; i < U__COUNT; i++) {
		if (sqlite3_prepare_v3(u->db, usql[i], -1, SQLITE_PREPARE_PERSISTENT, &u->st[i], NULL) != SQLITE_OK) {
			sip_users_close(u);
			return SIP_EIO;
		}
	}
	*out = u;
	return 0;
}

static bool valid_name(struct sip_str s) { return s.len > 0 && s.len <= SIP_USERS_MAX_FIELD && s.p; }

static bool valid_hex(struct sip_str s, size_t len)
{
	if (s.len != len || !s.p)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!SIP_IS(s.p[i], SIP_C_HEX))
			return false;
	return true;
}

static void bind_s(sqlite3_stmt *st, int i, struct sip_str s)
{
	sqlite3_bind_text(st, i, s.len ? s.p : "", (int)s.len, SQLITE_STATIC);
}

static int run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : SIP_EIO;
}

int sip_users_set_ha1(struct sip_users *u, struct sip_str username, struct sip_str realm, struct sip_str ha1_md5,
		      struct sip_str ha1_sha256)
{
	char md5[33], sha[65];
	if (!u || !valid_name(username) || !valid_name(realm) || !valid_hex(ha1_md5, 32) ||
	    !valid_hex(ha1_sha256, 64))
		return SIP_EINVAL;
	/* Stored lower-case so comparisons and exports are uniform. */
	for (size_t i = 0; i < 32; i++)
		md5[i] = (char)sip__lower[(unsigned char)ha1_md5.p[i]];
	for (size_t i = 0; i < 64; i++)
		sha[i] = (char)sip__lower[(unsigned char)ha1_sha256.p[i]];
	sqlite3_stmt *st = u->st[U_SET];
	bind_s(st, 1, username);
	bind_s(st, 2, realm);
	bind_s(st, 3, (struct sip_str){md5, 32});
	bind_s(st, 4, (struct sip_str){sha, 64});
	return run(st);
}

int sip_users_del(struct sip_users *u, struct sip_str username, struct sip_str realm)
{
	if (!u || !valid_name(username) || realm.len > SIP_USERS_MAX_FIELD)
		return SIP_EINVAL;
	sqlite3_stmt *st = u->st[realm.len ? U_DEL : U_DEL_ALL];
	bind_s(st, 1, username);
	if (realm.len)
		bind_s(st, 2, realm);
	int rc = run(st);
	if (rc)
		return rc;
	return sqlite3_changes(u->db) > 0 ? 0 : SIP_ENOTFOUND;
}

int sip_users_list(struct sip_users *u, int (*cb)(void *ud, struct sip_str username, struct sip_str realm),
		   void *ud)
{
	if (!u || !cb)
		return SIP_EINVAL;
	sqlite3_stmt *st = u->st[U_LIST];
	int rc, ret = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct sip_str user = {(const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0)};
		struct sip_str realm = {(const char *)sqlite3_column_text(st, 1), (size_t)sqlite3_column_bytes(st, 1)};
		if ((ret = cb(ud, user, realm)) != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = SIP_EIO;
	sqlite3_reset(st);
	return ret;
}

int sip_users_get_ha1(void *users, struct sip_str username, struct sip_str realm, enum sip_digest_alg alg,
		      char ha1[SIP_DIGEST_HEX_MAX])
{
	struct sip_users *u = users;
	if (!u || !ha1 || !valid_name(username) || !valid_name(realm))
		return SIP_EINVAL;
	size_t want = 0;
	int col = -1;
	switch (alg) {
	case SIP_DIGEST_MD5:
	case SIP_DIGEST_MD5_SESS: col = 0, want = 32; break;
	case SIP_DIGEST_SHA256:
	case SIP_DIGEST_SHA256_SESS: col = 1, want = 64; break;
	default: return SIP_EINVAL;
	}
	sqlite3_stmt *st = u->st[U_GET];
	bind_s(st, 1, username);
	bind_s(st, 2, realm);
	int rc = sqlite3_step(st), ret;
	if (rc == SQLITE_ROW) {
		const unsigned char *p = sqlite3_column_text(st, col);
		if (p && (size_t)sqlite3_column_bytes(st, col) == want) {
			memcpy(ha1, p, want);
			ha1[want] = '\0';
			ret = 0;
		} else {
			ret = SIP_EIO;
		}
	} else {
		ret = rc == SQLITE_DONE ? SIP_ENOTFOUND : SIP_EIO;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}
