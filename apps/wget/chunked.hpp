// Incremental decoder of the HTTP/1.1 chunked transfer coding (RFC 9112
// section 7.1), used by mvnf-wget for response bodies. It keeps a few bytes of
// state and never buffers: input may be split at any byte across calls, body
// bytes are handed back as spans of the caller's own buffer.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mvnf::wget {

class chunked_decoder {
  public:
    enum class status : uint8_t {
        more,   // needs more input
        done,   // last-chunk and trailer section consumed; the message ended
        error,  // malformed framing: the connection cannot be trusted any more
    };
    // One step: `used` input bytes were consumed; of them, body[body_off ..
    // body_off + body_len) is chunk data (a span of the input, no copy).
    struct step {
        status st;
        size_t used;
        size_t body_off, body_len;
    };

    // Limits on what is skipped, so a hostile peer cannot keep us scanning
    // forever: a chunk-size line with its extensions, and the trailer section.
    static constexpr size_t max_line = 4096;
    static constexpr size_t max_trailer = 65536;
    // Largest chunk-size accepted: 2^60 - 1 (15 significant hex digits), far
    // beyond any real body and safe from overflow in our 64-bit counters.
    static constexpr int max_size_digits = 15;

    // Consumes framing and at most one run of chunk data from in[0, n).
    // Call again with the rest while st == more and used < n.
    step next(const char* in, size_t n);
    // Convenience: decodes all of in[0, n), calling on_body(ctx, ptr, len) for
    // each data run. Returns the final status; `used` tells where the message
    // ended (bytes after it belong to whatever follows on the connection).
    step feed(const char* in, size_t n, void (*on_body)(void*, const char*, size_t), void* ctx);

    status state() const {
        return _st == st_done ? status::done : _st == st_error ? status::error : status::more;
    }
    uint64_t body_bytes() const { return _body; }
    void reset() { *this = chunked_decoder{}; }

  private:
    enum : uint8_t {
        st_size,        // chunk-size hex digits
        st_size_ws,     // BWS after the size (before ';' or CR)
        st_ext,         // chunk extensions: skipped up to CR
        st_size_lf,     // LF ending the chunk-size line
        st_data,        // chunk data
        st_data_cr,     // CR after chunk data
        st_data_lf,     // LF after chunk data
        st_trailer,     // start of a trailer line (or of the final CRLF)
        st_trailer_in,  // inside a trailer field line: skipped up to CR
        st_trailer_lf,  // LF ending a trailer field line
        st_end_lf,      // LF of the final empty line
        st_done,
        st_error,
    };
    uint8_t _st = st_size;
    uint8_t _digits = 0;      // significant hex digits of the current size
    bool _any_digit = false;  // at least one digit seen (1*HEXDIG)
    uint32_t _line = 0;       // bytes of the current size line
    uint32_t _trailer = 0;    // bytes of the trailer section
    uint64_t _left = 0;       // size being parsed, then data left in the chunk
    uint64_t _body = 0;       // chunk data bytes decoded so far
};

}  // namespace mvnf::wget
