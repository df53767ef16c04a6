// The mTCP lifecycle of mvnf-rob-server and mvnf-rob-client: mtcp_init with
// the program's config, one context on core 0, the program's run on it, then
// the teardown in reverse order. A failure names the tool and exits 1.
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "mtcp/mtcp_api.h"

namespace mvnf::rob {

// run(ctx) returns the exit status.
template <class Run>
int run_on_mtcp(const char* tool, const std::string& conf, Run&& run) {
    if (mtcp_init(conf.c_str()) < 0) {
        std::fprintf(stderr, "%s: mtcp_init(%s) failed\n", tool, conf.c_str());
        return 1;
    }
    mctx_t c = mtcp_create_context(0);
    if (!c) {
        std::fprintf(stderr, "%s: mtcp_create_context: %s\n", tool, std::strerror(errno));
        mtcp_destroy();
        return 1;
    }
    const int rc = run(c);
    mtcp_destroy_context(c);
    mtcp_destroy();
    return rc;
}

}  // namespace mvnf::rob
