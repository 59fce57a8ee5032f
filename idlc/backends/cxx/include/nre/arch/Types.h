// idlc's host stand-in for NRE's <arch/Types.h> (docs/cxx-backend.md): only what the
// generated stubs name. Written for idlc's tests, not taken from NRE.
#ifndef IDLC_NRE_TYPES_H
#define IDLC_NRE_TYPES_H

#include <stddef.h>
#include <stdint.h>

// The stand-ins throw as NRE does; without exceptions (freestanding) they trap instead.
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#define IDLC_NRE_THROW(e) throw e
#else
#define IDLC_NRE_THROW(e) __builtin_trap()
#endif

// NRE declares these at global scope (arch/x86_*/Types.h), and so do the stand-ins.
typedef uintptr_t word_t;
typedef unsigned uint;
typedef unsigned capsel_t;

#endif
