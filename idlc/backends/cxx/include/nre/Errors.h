// idlc's host stand-in for NRE's <Errors.h>: ErrorCode as NOVA-NRE.md §1 numbers it.
#ifndef IDLC_NRE_ERRORS_H
#define IDLC_NRE_ERRORS_H

namespace nre {
enum ErrorCode {
    E_SUCCESS = 0,
    E_TIMEOUT,
    E_ABORT,
    E_SYS,
    E_CAP,
    E_PAR,
    E_FTR,
    E_CPU,
    E_DEV,
    E_ASSERT,
    E_NO_CAP_SELS,
    E_UTCB_UNTYPED,
    E_UTCB_TYPED,
    E_CAPACITY,
    E_NOT_FOUND,
    E_EXISTS,
    E_ELF_INVALID,
    E_ELF_SIG,
    E_ARGS_INVALID,
    E_FAILURE,
};
}  // namespace nre

#endif
