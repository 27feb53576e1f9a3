#ifndef CUTOVER_LIBXML2_H
#define CUTOVER_LIBXML2_H
// libxml2's HTML and XML parsers, for parity's comparison of pages (#27). Needs libxml2-dev.
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#endif
