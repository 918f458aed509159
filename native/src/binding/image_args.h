// The image arguments the image bindings share (js_image.cc, js_jpeg.cc): a Uint8Array, and an RGB
// image given as (pixels: Uint8Array, width, height), checked to hold exactly (height, width, 3).
#pragma once

#include <napi.h>

#include "image/image.h"

namespace pix::binding {

// info[index] as a Uint8Array; an ArgumentError naming `name` otherwise.
Napi::Uint8Array bytes_arg(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name);

// (pixels, width, height) at info[index..index+2] -> a view of the array's memory.
image::ImageU8 image_at(const Napi::CallbackInfo& info, size_t index, const char* fn);

}  // namespace pix::binding
