// Command-line reading shared by mvnf-rob-server, mvnf-rob-client and
// mvnf-rob-bridge: a cursor over argv whose readers end the program with
// "TOOL: WHY" and its usage text (exit 2), in one wording for a missing
// value, a bad number, an unknown option and a bad IP:PORT; plus the signal
// hookup all three do.
#pragma once

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>

namespace mvnf::rob {

class arg_reader {
  public:
    arg_reader(int argc, char** argv, const char* tool, const char* usage)
        : _argc(argc), _argv(argv), _tool(tool), _usage(usage) {}

    // Moves to the next option; false when none is left.
    bool next() {
        if (++_i >= _argc) return false;
        _key = _argv[_i];
        return true;
    }
    bool is(const char* k) const { return _key == k; }
    bool help() const { return _key == "-h" || _key == "--help"; }

    // The option's value: the next argument.
    const char* value() {
        if (_i + 1 >= _argc) fail("missing value for " + _key);
        return _argv[++_i];
    }
    // The value as a number in [lo, hi].
    double number(double lo, double hi) {
        const char* v = value();
        char* end = nullptr;
        const double x = std::strtod(v, &end);
        if (!end || *end || x < lo || x > hi) fail(_key + ": bad value '" + v + "'");
        return x;
    }
    // The value as IP:PORT: parse_ip(text before the colon) reads the
    // address and says whether it is one; returns the port.
    template <class ParseIp>
    uint16_t ip_port(ParseIp&& parse_ip) {
        const std::string v = value();
        const size_t colon = v.find(':');
        if (colon == std::string::npos || !parse_ip(v.substr(0, colon).c_str()))
            fail(_key + ": expected IP:PORT");
        const int p = std::atoi(v.c_str() + colon + 1);
        if (p <= 0 || p > 65535) fail(_key + ": bad port");
        return uint16_t(p);
    }

    [[noreturn]] void fail(const std::string& why) const {
        std::fprintf(stderr, "%s: %s\n%s", _tool, why.c_str(), _usage);
        std::exit(2);
    }
    [[noreturn]] void unknown() const { fail("unknown option " + _key); }

  private:
    int _argc;
    char** _argv;
    const char* _tool;
    const char* _usage;
    int _i = 0;
    std::string _key;
};

// Runs `handler` on each of `sigs` (no SA_RESTART: a blocking call returns
// EINTR, so the main loops notice the flag at once).
inline void on_signals(void (*handler)(int), std::initializer_list<int> sigs) {
    struct sigaction sa {};
    sa.sa_handler = handler;
    for (int s : sigs) sigaction(s, &sa, nullptr);
}

}  // namespace mvnf::rob
