# Rewrites a .cu file's kernel launches for the CUDA emulator (cuda_emulator.h):
#   name<T...><<<config>>>(  ->  ::pix_emu::launch(name<T...>, config)(
# Run as: cmake -DIN=file.cu -DOUT=file.cpp -P translate_launches.cmake. The configuration may hold
# one level of angle brackets (static_cast<unsigned>(...)); anything the pattern misses is left as
# <<<, which g++ then refuses, so a missed launch cannot pass silently.
file(READ "${IN}" source)
string(REGEX REPLACE "([A-Za-z_][A-Za-z0-9_:]*(<[^<>;]*>)?)<<<(([^<>;]|<[^<>;]*>)*)>>>\\("
       "::pix_emu::launch(\\1, \\3)(" source "${source}")
file(WRITE "${OUT}" "#line 1 \"${IN}\"\n${source}")
