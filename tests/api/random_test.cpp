// mtcp_init without the kernel's randomness: it must fail with getrandom's
// errno rather than key ISNs (RFC 6528) and SYN cookies (RFC 4987) with a
// guessable clock. getrandom is replaced at link time (-Wl,--wrap) so the
// failure can be produced; with the real one the same configuration starts.
#include <arpa/inet.h>
#include <sys/random.h>

#include "api_harness.hpp"

using namespace api_test;

namespace {
bool g_fail = true;
}

extern "C" ssize_t __real_getrandom(void* buf, size_t len, unsigned flags);
extern "C" ssize_t __wrap_getrandom(void* buf, size_t len, unsigned flags) {
    if (g_fail) {
        errno = ENOSYS;
        return -1;
    }
    return __real_getrandom(buf, len, flags);
}

TEST(ApiInit, FailsWithoutKernelRandomness) {
    const std::string conf = write_conf(unique_link("rnd"), true);
    errno = 0;
    EXPECT_EQ(mtcp_init(conf.c_str()), -1);
    EXPECT_EQ(errno, ENOSYS);
    EXPECT_EQ(mtcp_create_context(0), nullptr);  // nothing was set up
    g_fail = false;
    ASSERT_EQ(mtcp_init(conf.c_str()), 0);
    mtcp_destroy();
}
