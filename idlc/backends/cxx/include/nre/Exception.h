// idlc's host stand-in for NRE's <Exception.h>: an error code and a message.
#ifndef IDLC_NRE_EXCEPTION_H
#define IDLC_NRE_EXCEPTION_H

#include <Errors.h>
#include <String.h>

namespace nre {
class Exception {
public:
    explicit Exception(ErrorCode code = E_FAILURE, const String &msg = String()) throw()
        : _code(code), _msg(msg) {}
    virtual ~Exception() throw() {}
    const char *msg() const { return _msg.str(); }
    ErrorCode code() const { return _code; }

private:
    ErrorCode _code;
    String _msg;
};
}  // namespace nre

#endif
