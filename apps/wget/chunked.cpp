// The chunked transfer coding, RFC 9112 section 7.1:
//
//   chunked-body    = *chunk last-chunk trailer-section CRLF
//   chunk           = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//   chunk-size      = 1*HEXDIG
//   last-chunk      = 1*("0") [ chunk-ext ] CRLF
//   chunk-ext       = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//   trailer-section = *( field-line CRLF )
//
// Extensions and trailer fields carry nothing a load generator needs, so they
// are skipped (section 7.1.1: a recipient MUST ignore unrecognized chunk
// extensions; 7.1.2: trailer fields may be discarded), bounded in length.
// Line ends must be CRLF: the bare-LF leniency of section 2.2 covers the
// start-line and fields, not chunk framing, and framing disagreements between
// parties are how responses get split.
#include "chunked.hpp"

namespace mvnf::wget {

namespace {
int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
// CTLs other than HTAB cannot appear in an extension (token / quoted-string,
// RFC 9110 section 5.6) or a field line.
bool is_ctl(char c) {
    return (uint8_t(c) < 0x20 && c != '\t') || uint8_t(c) == 0x7f;
}
}  // namespace

chunked_decoder::step chunked_decoder::next(const char* in, size_t n) {
    size_t i = 0;
    while (i < n && _st != st_done && _st != st_error) {
        if (_st == st_data) {
            const size_t take = _left < n - i ? size_t(_left) : n - i;
            _left -= take;
            _body += take;
            if (_left == 0) _st = st_data_cr;
            return {status::more, i + take, i, take};
        }
        const char c = in[i++];
        const uint8_t was = _st;
        switch (_st) {
            case st_size:
                if (const int d = hex_value(c); d >= 0) {
                    _any_digit = true;
                    // Leading zeros are legal (last-chunk is 1*"0") and add no value.
                    if ((_left != 0 || d != 0) && ++_digits > max_size_digits) _st = st_error;
                    _left = _left * 16 + uint64_t(d);
                } else if (!_any_digit) {
                    _st = st_error;  // chunk-size needs at least one digit
                } else if (c == ';') {
                    _st = st_ext;
                } else if (c == ' ' || c == '\t') {
                    _st = st_size_ws;
                } else if (c == '\r') {
                    _st = st_size_lf;
                } else {
                    _st = st_error;  // e.g. "5x", "-1", "0x10"
                }
                break;
            case st_size_ws:  // BWS may only precede ";" (chunk-ext)
                if (c == ';')
                    _st = st_ext;
                else if (c != ' ' && c != '\t')
                    _st = st_error;
                break;
            case st_ext:
                if (c == '\r')
                    _st = st_size_lf;
                else if (is_ctl(c))
                    _st = st_error;
                break;
            case st_size_lf:
                if (c != '\n') {
                    _st = st_error;
                    break;
                }
                _st = _left == 0 ? st_trailer : st_data;  // size 0: last-chunk
                _line = 0, _digits = 0, _any_digit = false;
                break;
            case st_data_cr:
                _st = c == '\r' ? st_data_lf : st_error;
                break;
            case st_data_lf:
                _st = c == '\n' ? st_size : st_error;
                break;
            case st_trailer:
                _st = c == '\r' ? st_end_lf : is_ctl(c) ? st_error : st_trailer_in;
                break;
            case st_trailer_in:
                if (c == '\r')
                    _st = st_trailer_lf;
                else if (is_ctl(c))
                    _st = st_error;
                break;
            case st_trailer_lf:
                _st = c == '\n' ? st_trailer : st_error;
                break;
            case st_end_lf:
                _st = c == '\n' ? st_done : st_error;
                break;
            default:
                _st = st_error;
                break;
        }
        if (was < st_size_lf) {  // the size line, up to its CR
            if (++_line > max_line) _st = st_error;
        } else if (was >= st_trailer && was <= st_end_lf) {
            if (++_trailer > max_trailer) _st = st_error;
        }
    }
    return {state(), i, 0, 0};
}

chunked_decoder::step chunked_decoder::feed(const char* in, size_t n,
                                            void (*on_body)(void*, const char*, size_t),
                                            void* ctx) {
    size_t off = 0;
    for (;;) {
        const step s = next(in + off, n - off);
        if (s.body_len && on_body) on_body(ctx, in + off + s.body_off, s.body_len);
        off += s.used;
        if (s.st != status::more || off == n) return {s.st, off, 0, 0};
    }
}

}  // namespace mvnf::wget
