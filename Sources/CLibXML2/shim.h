// The only C header of libxml2 that Swift sees. Keep it tiny: includes and wrappers for what Swift 6
// cannot call directly.
#ifndef TONGBAO_CLIBXML2_SHIM_H
#define TONGBAO_CLIBXML2_SHIM_H

// Debian builds libxml2 with ICU; its headers then clash with Foundation's ICU. Turn it off before the rest.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>
#include <libxml/c14n.h>
#include <libxml/xmlsave.h>

// xmlFree is a global mutable function pointer, which Swift 6 rejects.
static inline void tongbao_xml_free(void *pointer) { xmlFree(pointer); }

// A structured-error handler that drops the message (errors are read from the context instead), so that
// libxml2 never prints to stderr.
static inline void tongbao_xml_silent_error(void *context, const xmlError *error) { (void)context; (void)error; }

static inline void tongbao_xml_silence_errors(void) {
    xmlSetStructuredErrorFunc(NULL, (xmlStructuredErrorFunc)tongbao_xml_silent_error);
    xmlSetGenericErrorFunc(NULL, NULL);
}

#endif
