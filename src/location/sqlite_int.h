/* sqlite_int.h — opening the shared SQLite file (location and users). */
#ifndef SIP_LOCATION_SQLITE_INT_H
#define SIP_LOCATION_SQLITE_INT_H

#include <sqlite3.h>

/* Opens path (NULL: private in-memory database) with the durability
 * settings every store uses: WAL, synchronous=FULL, a busy timeout. Runs
 * schema (may be NULL). 0 or SIP_EIO (*db is NULL then). */
int sip__sqlite_open(sqlite3 **db, const char *path, const char *schema);

#endif
