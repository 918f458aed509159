// How a backward writes an input gradient. Accumulate adds to what the buffer holds: for a tensor
// several consumers read (a block's input feeds its branch, its gate and its shortcut). Overwrite
// writes over it: for a fresh buffer with a single producer, which then needs no zero-fill and
// no read of the old values (one memory pass instead of three).
#pragma once

namespace pix {

enum class GradWrite { Accumulate, Overwrite };

}  // namespace pix
