#ifndef CUTOVER_ZLIB_H
#define CUTOVER_ZLIB_H
// zlib's gzip reader, for rotated access logs (access.log.2.gz). Needs zlib1g-dev to build.
#include <zlib.h>
#endif
