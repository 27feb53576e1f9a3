#ifndef CUTOVER_GDBM_H
#define CUTOVER_GDBM_H
// GNU dbm, for the hashed RewriteMap Apache reads with `dbm=gdbm:` (#28). Needs libgdbm-dev.
#include <gdbm.h>
#endif
