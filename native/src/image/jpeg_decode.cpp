// Region decoding with libjpeg-turbo's libjpeg API; see jpeg_decode.h. libjpeg reports errors by
// calling error_exit, which must not return: it longjmps back to the setjmp in the function that
// started the call, which then throws. Between setjmp and the libjpeg calls no C++ object is
// created, so the jump skips no destructor; the Session destructor frees libjpeg's memory on
// every path.
#include "image/jpeg_decode.h"

#include <csetjmp>
#include <cstdio>  // jpeglib.h needs FILE
#include <cstring>

#include <jpeglib.h>
#include <jerror.h>  // the message codes, to tell the premature-end warning apart

namespace pix::image {
namespace {

struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void on_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  err->pub.format_message(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Warnings are ignored as PIL ignores them, except the one a file cut short gives ("Premature end
// of JPEG file": libjpeg then pads with grey), which PIL refuses as truncated.
void on_message(j_common_ptr cinfo, int level) {
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) on_error(cinfo);
}

struct Session {
  jpeg_decompress_struct cinfo;
  ErrorManager err;

  Session() {
    std::memset(&cinfo, 0, sizeof cinfo);  // jpeg_destroy is then a no-op until creation succeeds
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = on_error;
    err.pub.emit_message = on_message;
    err.message[0] = '\0';
  }
  ~Session() { jpeg_destroy_decompress(&cinfo); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void open(const uint8_t* data, size_t size) {
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
    jpeg_read_header(&cinfo, TRUE);
  }
  bool rgb() const {
    return cinfo.jpeg_color_space == JCS_GRAYSCALE || cinfo.jpeg_color_space == JCS_YCbCr ||
           cinfo.jpeg_color_space == JCS_RGB;
  }
};

bool ends_with_eoi(const uint8_t* data, size_t size) { return size >= 2 && data[size - 2] == 0xFF && data[size - 1] == 0xD9; }

}  // namespace

JpegInfo read_jpeg_info(const uint8_t* data, size_t size) {
  PIX_CHECK(data != nullptr && size > 0, "read_jpeg_info: the file is empty");
  Session s;
  if (setjmp(s.err.jump)) throw Error(concat("libjpeg: ", s.err.message));
  s.open(data, size);
  return {static_cast<int>(s.cinfo.image_width), static_cast<int>(s.cinfo.image_height), s.rgb()};
}

DecodedJpeg decode_jpeg_region(const uint8_t* data, size_t size, const JpegRegion& r) {
  const char* fn = "decode_jpeg_region";
  PIX_CHECK(data != nullptr && size > 0, fn, ": the file is empty");
  PIX_CHECK(r.scale_denom == 1 || r.scale_denom == 2 || r.scale_denom == 4 || r.scale_denom == 8, fn,
            ": scale_denom must be 1, 2, 4 or 8, got ", r.scale_denom);
  PIX_CHECK(r.left >= 0 && r.top >= 0 && r.width > 0 && r.height > 0, fn, ": empty or negative region");
  Session s;
  DecodedJpeg out;
  std::vector<uint8_t> last_row;
  if (setjmp(s.err.jump)) throw Error(concat("libjpeg: ", s.err.message));
  s.open(data, size);
  PIX_CHECK(s.rgb(), fn, ": CMYK and YCCK JPEGs are not decoded here");
  jpeg_decompress_struct& c = s.cinfo;
  c.out_color_space = JCS_RGB;
  c.dct_method = JDCT_ISLOW;      // PIL's settings (no draft mode): exact IDCT
  c.do_fancy_upsampling = TRUE;   // and triangular chroma upsampling
  c.scale_num = 1;
  c.scale_denom = static_cast<unsigned>(r.scale_denom);
  jpeg_start_decompress(&c);
  const int out_w = static_cast<int>(c.output_width);
  const int out_h = static_cast<int>(c.output_height);
  PIX_CHECK(r.left + r.width <= out_w && r.top + r.height <= out_h, fn, ": region ", r.width, "x", r.height, " at (",
            r.left, ", ", r.top, ") is outside the ", out_w, "x", out_h, " image");

  // One extra column each side: fancy upsampling replicates the samples at the edges of what it
  // decodes, so the region's own edge columns come out as in a full decode.
  JDIMENSION x0 = static_cast<JDIMENSION>(r.left > 0 ? r.left - 1 : 0);
  JDIMENSION cols = static_cast<JDIMENSION>((r.left + r.width < out_w ? r.left + r.width + 1 : out_w)) - x0;
  if (cols < c.output_width) jpeg_crop_scanline(&c, &x0, &cols);
  const int64_t stride = int64_t{cols} * kChannels;
  out.pixels.resize(static_cast<size_t>(stride) * r.height);
  if (r.top > 0) jpeg_skip_scanlines(&c, static_cast<JDIMENSION>(r.top));
  for (int y = 0; y < r.height; ++y) {
    JSAMPROW row = out.pixels.data() + y * stride;
    jpeg_read_scanlines(&c, &row, 1);
  }
  if (c.output_scanline < c.output_height && !ends_with_eoi(data, size)) {
    // No end marker: possibly cut short below the region. Entropy-decode to the last row so a
    // truncated file fails here as it does in PIL (skipping to the very end would not read the data).
    last_row.resize(static_cast<size_t>(stride));
    if (c.output_scanline + 1 < c.output_height) jpeg_skip_scanlines(&c, c.output_height - 1 - c.output_scanline);
    JSAMPROW row = last_row.data();
    jpeg_read_scanlines(&c, &row, 1);
  }
  if (c.output_scanline == c.output_height) jpeg_finish_decompress(&c);
  out.region = {out.pixels.data() + (r.left - static_cast<int>(x0)) * kChannels, r.width, r.height, stride};
  return out;
}

}  // namespace pix::image
