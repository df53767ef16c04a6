// Opening, claiming and closing a shm link region, and peer liveness. Called
// by open_shm() and shm_port. Open happens in stages, each undone on failure:
// shm_open -> size/reserve -> mmap -> claim an end. Nothing here is on the data
// path except peer_gone(), which is called only from wait()'s sleeping path.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <linux/futex.h>

#include "netio/shm/shm_port.hpp"

namespace mvnf::netio::shm {

namespace {

uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

bool process_exists(int pid) {
    if (pid <= 0) return false;
    return kill(pid, 0) == 0 || errno == EPERM;
}

error sys_error(const std::string& who, const char* what, int err) {
    errc c = (err == EACCES || err == EPERM) ? errc::permission : errc::system;
    return error{c, who + ": " + what + ": " + std::strerror(err)};
}

void wake_all(std::atomic<uint32_t>& word) {
    word.fetch_add(1, std::memory_order_release);
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE, INT_MAX, nullptr, nullptr,
            0);
}

// Stale: no end is attached by a running process (all died, or closed).
bool is_stale(const shm_header& h) {
    for (const auto& e : h.ends)
        if (e.state.load(std::memory_order_acquire) == end_attached &&
            process_exists(e.pid.load(std::memory_order_acquire)))
            return false;
    return true;
}

// A link one of whose processes left (closed, or died) while the other still
// runs can be joined again by a new process in the left end's place: a
// restarted client of a long-running server. The left end's transmit
// buffers are then in three places: in its data rings, not yet read by the
// survivor; read and still held by the survivor; or back in its return
// rings (or lost in the old process's free list, which is the same as free).
// Once the survivor has read and returned all of them (for every ring pair,
// data tail == data head == return tail), every buffer of the end is free:
// the newcomer empties its return rings and starts with all of them, as a
// fresh end does. The survivor keeps polling while its peer is gone (its
// wait() returns at once), so this takes one of its loop iterations; the
// wait is bounded in case it does not.
enum class rejoin_result { not_applicable, joined, raced, survivor_busy };

rejoin_result rejoin(shm_header& h, std::byte* base, const layout& lay, unsigned& end_out) {
    for (unsigned e : {1u, 0u}) {
        const unsigned o = 1 - e;
        if (h.ends[o].state.load(std::memory_order_acquire) != end_attached ||
            !process_exists(h.ends[o].pid.load(std::memory_order_acquire)))
            continue;  // the other end must still run
        uint32_t s = h.ends[e].state.load(std::memory_order_acquire);
        const bool left = s == end_closed ||
                          (s == end_attached && !process_exists(h.ends[e].pid.load()));
        if (!left) continue;
        if (!h.ends[e].state.compare_exchange_strong(s, end_claiming)) return rejoin_result::raced;
        auto ctl = [&](size_t off) { return reinterpret_cast<ring_ctl*>(base + off); };
        auto quiet = [&] {
            for (unsigned q = 0; q < lay.nq; ++q)
                for (unsigned j = 0; j < lay.nq; ++j) {
                    ring_ctl* d = ctl(lay.data_ctl(e, q, j));
                    ring_ctl* r = ctl(lay.ret_ctl(e, q, j));
                    const uint32_t head = d->head.load(std::memory_order_acquire);
                    if (d->tail.load(std::memory_order_acquire) != head ||
                        r->tail.load(std::memory_order_acquire) != head)
                        return false;
                }
            return true;
        };
        bool ok = false;
        for (int i = 0; i < 2000 && !(ok = quiet()); ++i) usleep(1000);
        if (!ok) {
            h.ends[e].state.store(s, std::memory_order_release);  // as it was
            return rejoin_result::survivor_busy;
        }
        for (unsigned q = 0; q < lay.nq; ++q)
            for (unsigned j = 0; j < lay.nq; ++j) {
                ring_ctl* r = ctl(lay.ret_ctl(e, q, j));
                r->head.store(r->tail.load(std::memory_order_acquire), std::memory_order_release);
            }
        h.ends[e].pid.store(getpid(), std::memory_order_release);
        h.ends[e].attach_ns.store(now_ns(), std::memory_order_relaxed);
        h.ends[e].state.store(end_attached, std::memory_order_seq_cst);
        end_out = e;
        return rejoin_result::joined;
    }
    return rejoin_result::not_applicable;
}

}  // namespace

result<std::unique_ptr<region>> region::open(const params& p) {
    const std::string who = "shm:" + p.name;
    const std::string path = object_name(p.name);
    const layout lay = layout::compute(p.num_queues, p.ring_size, p.buf_size);
    // Keeps a typo (64 queues x 65536 slots x 9216 bytes) from eating /dev/shm.
    constexpr size_t max_region = size_t(4) << 30;
    if (lay.total > max_region)
        return fail(error{errc::bad_config, who + ": link would need " +
                                                std::to_string(lay.total >> 20) +
                                                " MiB of shared memory (limit 4096 MiB); use "
                                                "fewer queues, smaller rings or buffers"});

    for (int attempt = 0; attempt < 20; ++attempt) {
        auto r = std::unique_ptr<region>(new region());
        r->_path = path;
        r->_lay = lay;

        // Stage 1a: try to create; the creator becomes end 0.
        int fd = shm_open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            r->_fd = fd;
            auto undo = [&](const char* what, int err) {
                close(fd);
                r->_fd = -1;
                shm_unlink(path.c_str());
                return fail(sys_error(who, what, err));
            };
            if (ftruncate(fd, off_t(lay.total)) != 0) return undo("ftruncate", errno);
            // Reserve the pages now: a full /dev/shm then fails here with a
            // message instead of SIGBUS on the data path.
            if (int err = posix_fallocate(fd, 0, off_t(lay.total)); err != 0)
                return undo("reserving space in /dev/shm", err);
            void* m = mmap(nullptr, lay.total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            if (m == MAP_FAILED) return undo("mmap", errno);
            r->_base = static_cast<std::byte*>(m);
            // The fresh file is zero: every ring index, wake word and end state
            // starts at 0. Fill in the geometry, claim end 0, then publish.
            shm_header& h = r->hdr();
            h.version = region_version;
            h.num_queues = p.num_queues;
            h.ring_size = p.ring_size;
            h.buf_size = p.buf_size;
            h.mtu = p.mtu;
            h.total_size = lay.total;
            h.generation = now_ns();
            h.ends[0].pid.store(getpid(), std::memory_order_relaxed);
            h.ends[0].attach_ns.store(now_ns(), std::memory_order_relaxed);
            h.ends[0].state.store(end_attached, std::memory_order_relaxed);
            h.magic.store(region_magic, std::memory_order_release);
            r->_end = 0;
            r->_claimed = true;
            return r;
        }
        if (errno != EEXIST) return fail(sys_error(who, "shm_open", errno));

        // Stage 1b: it exists; attach as end 1.
        fd = shm_open(path.c_str(), O_RDWR | O_CLOEXEC, 0);
        if (fd < 0) {
            if (errno == ENOENT) continue;  // unlinked meanwhile: try to create again
            return fail(sys_error(who, "shm_open", errno));
        }
        r->_fd = fd;
        // Wait (bounded) for the creator to size the file and publish the header.
        struct stat st {};
        bool ready = false;
        for (int i = 0; i < 2000 && !ready; ++i) {
            if (fstat(fd, &st) != 0) return fail(sys_error(who, "fstat", errno));
            if (size_t(st.st_size) >= sizeof(shm_header)) {
                void* m = mmap(nullptr, size_t(st.st_size), PROT_READ | PROT_WRITE, MAP_SHARED,
                               fd, 0);
                if (m == MAP_FAILED) return fail(sys_error(who, "mmap", errno));
                auto* h = static_cast<shm_header*>(m);
                if (h->magic.load(std::memory_order_acquire) == region_magic) {
                    r->_base = static_cast<std::byte*>(m);
                    r->_lay.total = size_t(st.st_size);  // munmap what we mapped
                    ready = true;
                    break;
                }
                munmap(m, size_t(st.st_size));
            }
            usleep(1000);
        }
        if (!ready) {
            // A creator that died between shm_open and publishing leaves a
            // half-made object; nobody can use it, so remove it and retry.
            close(fd);
            r->_fd = -1;
            shm_unlink(path.c_str());
            continue;
        }
        shm_header& h = r->hdr();

        // A region left by dead processes is recovered: exactly one opener
        // wins the `unlinked` flag and removes the name; everyone retries.
        if (h.version != region_version || is_stale(h)) {
            uint32_t zero = 0;
            if (h.unlinked.compare_exchange_strong(zero, 1)) shm_unlink(path.c_str());
            else usleep(1000);
            continue;  // ~region unmaps this one
        }
        auto mismatch = [&](const char* what, uint32_t theirs, uint32_t ours) {
            return fail(error{errc::bad_config,
                              who + ": " + what + " mismatch: the other end opened the link with " +
                                  std::to_string(theirs) + ", this end asked for " +
                                  std::to_string(ours)});
        };
        if (h.num_queues != p.num_queues) return mismatch("queue count", h.num_queues, p.num_queues);
        if (h.ring_size != p.ring_size) return mismatch("ring size", h.ring_size, p.ring_size);
        if (h.buf_size != p.buf_size) return mismatch("buffer size", h.buf_size, p.buf_size);
        if (h.mtu != p.mtu) return mismatch("MTU", h.mtu, p.mtu);
        if (h.total_size != lay.total || size_t(st.st_size) != lay.total)
            return fail(error{errc::bad_config, who + ": region size does not match its header "
                                                      "(corrupt or foreign /dev/shm object " +
                                                      path + ")"});

        uint32_t expect = end_free;
        unsigned end = 1;
        if (h.ends[1].state.compare_exchange_strong(expect, end_attached)) {
            h.ends[1].pid.store(getpid(), std::memory_order_release);
            h.ends[1].attach_ns.store(now_ns(), std::memory_order_relaxed);
        } else {
            // Both ends were claimed: take the place of one that left while
            // the other still runs (see rejoin), else the link is busy.
            const rejoin_result rj = rejoin(h, r->_base, r->_lay, end);
            if (rj == rejoin_result::raced) {
                usleep(1000);
                continue;
            }
            if (rj != rejoin_result::joined) {
                auto desc = [&](unsigned e) {
                    return h.ends[e].state.load() == end_closed ? std::string("closed")
                                            : "pid " + std::to_string(h.ends[e].pid.load());
                };
                return fail(error{
                    errc::busy,
                    who + ": both ends are taken (end 0 " + desc(0) + ", end 1 " + desc(1) +
                        (rj == rejoin_result::survivor_busy
                             ? "); the running end did not return the buffers of the one that "
                               "left within 2 s (it is not polling the link)"
                             : "); a link joins two processes at a time")});
            }
        }
        r->_end = end;
        // The other end may have closed or died while we claimed: that
        // session is over, so give our claim up and start a fresh region.
        const unsigned other = 1 - end;
        uint32_t so = h.ends[other].state.load(std::memory_order_seq_cst);
        if (so != end_attached || !process_exists(h.ends[other].pid.load())) {
            h.ends[end].state.store(end_closed);
            uint32_t zero = 0;
            if (h.unlinked.compare_exchange_strong(zero, 1)) shm_unlink(path.c_str());
            continue;
        }
        r->_claimed = true;
        return r;
    }
    return fail(error{errc::busy, who + ": could not open " + path +
                                      " (other processes keep re-creating it)"});
}

region::~region() {
    if (_claimed) {
        shm_header& h = hdr();
        unsigned peer = 1 - _end;
        h.ends[_end].state.store(end_closed, std::memory_order_seq_cst);
        // Seal a still-free peer end so no late opener joins a finished link.
        uint32_t expect = end_free;
        h.ends[peer].state.compare_exchange_strong(expect, end_closed);
        // Wake every sleeper of the peer: its wait() returns and sees us gone.
        for (unsigned q = 0; q < _lay.nq; ++q) wake_all(wake(peer, q).seq);
        // Whoever finds the other end not alive removes the name (once).
        if (!peer_alive()) {
            uint32_t zero = 0;
            if (h.unlinked.compare_exchange_strong(zero, 1)) shm_unlink(_path.c_str());
        }
    }
    if (_base) munmap(_base, _lay.total);
    if (_fd >= 0) close(_fd);
    if (_pidfd >= 0) close(_pidfd);
}

bool region::pid_dead(int pid) const {
    if (pid <= 0) return false;
#ifdef SYS_pidfd_open
    // A pidfd polls readable once the process has exited, zombie or not, and
    // never confuses a recycled pid; kill(pid, 0) sees zombies as alive.
    std::lock_guard guard(_pidfd_m);  // queues of one port wait() on their own threads
    if (_pidfd_pid != pid) {
        if (_pidfd >= 0) close(_pidfd);
        _pidfd = int(syscall(SYS_pidfd_open, pid, 0));
        _pidfd_pid = pid;
        if (_pidfd < 0 && errno == ESRCH) return true;
    }
    if (_pidfd >= 0) {
        pollfd pfd{_pidfd, POLLIN, 0};
        return poll(&pfd, 1, 0) > 0;
    }
#endif
    return !process_exists(pid);
}

bool region::peer_alive() const {
    const end_slot& e = hdr().ends[1 - _end];
    if (e.state.load(std::memory_order_acquire) != end_attached) return false;
    return !pid_dead(e.pid.load(std::memory_order_acquire));
}

bool region::peer_gone() const {
    const end_slot& e = hdr().ends[1 - _end];
    uint32_t s = e.state.load(std::memory_order_acquire);
    if (s == end_free) return false;
    if (s == end_closed) return true;
    return pid_dead(e.pid.load(std::memory_order_acquire));
}

}  // namespace mvnf::netio::shm
