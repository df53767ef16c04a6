// The C boundary's last line against C++ exceptions: every extern "C" entry
// point catches whatever escapes its body (std::bad_alloc while a context's
// pools are allocated, std::system_error when a thread cannot start...) and
// hands it here, which turns it into errno and one line on stderr. An
// exception unwinding into a C caller would abort the process.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <stdexcept>
#include <system_error>

#include "api/context.hpp"

namespace mvnf::api {

int api_exception(const char* call) noexcept {
    int e = EIO;
    const char* what = "unknown exception";
    try {
        throw;
    } catch (const std::bad_alloc& x) {
        e = ENOMEM;  // POSIX: insufficient storage
        what = x.what();
    } catch (const std::length_error& x) {
        e = ENOMEM;  // a size beyond what a container can hold: the same cause
        what = x.what();
    } catch (const std::system_error& x) {
        // std::thread and friends carry the kernel's errno (EAGAIN, ENOMEM...).
        const auto& cat = x.code().category();
        if ((cat == std::generic_category() || cat == std::system_category()) && x.code().value() > 0)
            e = x.code().value();
        what = x.what();
    } catch (const std::exception& x) {
        what = x.what();
    } catch (...) {
    }
    std::fprintf(stderr, "%s: %s (%s)\n", call, std::strerror(e), what);
    errno = e;
    return -1;
}

}  // namespace mvnf::api
