// Block-when-idle for one consumer thread, woken by producers only when it
// has announced it is about to sleep: no syscall per packet, one FUTEX_WAKE
// per sleep. Used by dist::engine for core pipes and the TX dispatcher.
//
// Dekker-style handshake (both sides use a seq_cst fence):
//   consumer: seq = _seq; _sleeping = 1; fence; if (work) cancel; else futex_wait(_seq, seq)
//   producer: publish work; fence; if (_sleeping.exchange(0)) { ++_seq; futex_wake }
// Either the consumer sees the work, or the producer sees _sleeping.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdint>
#include <ctime>

namespace mvnf::dist {

class sleeper {
public:
    // Consumer. Blocks up to timeout_ns (< 0: forever) unless has_work()
    // becomes true first. Returns true when it actually blocked.
    template <class F>
    bool sleep(int64_t timeout_ns, F&& has_work) {
        uint32_t seq = _seq.load(std::memory_order_acquire);
        _sleeping.store(1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (has_work()) {
            _sleeping.store(0, std::memory_order_relaxed);
            return false;
        }
        timespec ts{}, *tsp = nullptr;
        if (timeout_ns >= 0) {
            ts.tv_sec = time_t(timeout_ns / 1'000'000'000);
            ts.tv_nsec = long(timeout_ns % 1'000'000'000);
            tsp = &ts;
        }
        syscall(SYS_futex, reinterpret_cast<uint32_t*>(&_seq), FUTEX_WAIT_PRIVATE, seq, tsp,
                nullptr, 0);
        _sleeping.store(0, std::memory_order_relaxed);
        return true;
    }

    // Producer, after publishing work. Returns true when it made a syscall.
    bool wake() {
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (_sleeping.load(std::memory_order_relaxed) == 0) return false;
        if (_sleeping.exchange(0, std::memory_order_acq_rel) == 0) return false;
        _seq.fetch_add(1, std::memory_order_release);
        syscall(SYS_futex, reinterpret_cast<uint32_t*>(&_seq), FUTEX_WAKE_PRIVATE, INT_MAX,
                nullptr, nullptr, 0);
        return true;
    }
    // Unconditional wake (shutdown).
    void wake_always() {
        _seq.fetch_add(1, std::memory_order_release);
        syscall(SYS_futex, reinterpret_cast<uint32_t*>(&_seq), FUTEX_WAKE_PRIVATE, INT_MAX,
                nullptr, nullptr, 0);
    }

private:
    static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
    alignas(64) std::atomic<uint32_t> _seq{0};
    std::atomic<uint32_t> _sleeping{0};
};

}  // namespace mvnf::dist
