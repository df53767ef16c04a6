// stat_http = ADDR:PORT: a kernel TCP socket served by its own thread, off
// the data path, answering GET /metrics with every counter of every live
// core in the Prometheus text format (read from the instance's published
// slots, never from a context). Started by mtcp_init, stopped by mtcp_destroy.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "wire/addr.hpp"

namespace mvnf::api {

struct instance;

class stat_server {
public:
    // Binds and listens (errors name the address: EADDRINUSE...), then
    // starts the thread. Returns null with `error` set on failure.
    static std::unique_ptr<stat_server> start(instance& inst, ipv4_addr ip, uint16_t port,
                                              std::string& error);
    ~stat_server();  // stops and joins the thread, closes the sockets
    stat_server(const stat_server&) = delete;
    stat_server& operator=(const stat_server&) = delete;

private:
    stat_server(instance& inst, int listen_fd, int stop_fd);
    void run();
    void serve(int fd);

    instance& _inst;
    int _listen = -1, _stop = -1;  // the listening socket; an eventfd ends run()
    std::thread _thread;
};

// Every counter of every live core in the Prometheus text exposition format
// (version 0.0.4): one family per counter, a `core` label per sample, drop
// reasons as the family mtcp_drop_reason_total{core,layer,reason}.
std::string prometheus_text(instance& inst);

}  // namespace mvnf::api
