# The CUDA backend built for the CUDA emulator (PIX_CUDA_EMULATOR=ON): every .cu of
# PIX_CUDA_SOURCES has its launches rewritten (translate_launches.cmake) into a C++ file in the
# build folder, which the C++ compiler builds with cuda_emulator.h force-included. Only the CUDA
# toolkit's headers are used (cuda_runtime_api.h, cuda_bf16.h); cudart, cuBLAS, cuDNN and NCCL are
# neither linked nor opened, since "device" memory here is host memory. NCCL's and cuDNN's places
# are taken by nccl_emulator.cpp and cudnn_emulator.cpp, built below as the libnccl.so.2 and
# libcudnn.so.9 the emulated engine opens.
find_package(CUDAToolkit REQUIRED)
set(PIX_EMULATOR_DIR ${CMAKE_CURRENT_SOURCE_DIR}/cuda_emulator)
set(PIX_EMULATOR_RUNTIME ${PIX_EMULATOR_DIR}/scheduler.cpp ${PIX_EMULATOR_DIR}/runtime.cpp ${PIX_EMULATOR_DIR}/graphs.cpp)
set(PIX_EMULATED_SOURCES ${PIX_EMULATOR_RUNTIME})
foreach(source ${PIX_CUDA_SOURCES})
  if(source MATCHES "\\.cu$")
    set(translated ${CMAKE_CURRENT_BINARY_DIR}/emulated/${source}.cpp)
    add_custom_command(
      OUTPUT ${translated}
      COMMAND ${CMAKE_COMMAND} -DIN=${CMAKE_CURRENT_SOURCE_DIR}/${source} -DOUT=${translated}
              -P ${PIX_EMULATOR_DIR}/translate_launches.cmake
      DEPENDS ${source} ${PIX_EMULATOR_DIR}/translate_launches.cmake
      COMMENT "Translating ${source} for the CUDA emulator")
    list(APPEND PIX_TRANSLATED_SOURCES ${translated})
  else()
    list(APPEND PIX_EMULATED_SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/${source})
  endif()
endforeach()

add_library(pix_cuda STATIC ${PIX_EMULATED_SOURCES} ${PIX_TRANSLATED_SOURCES})
target_include_directories(pix_cuda PUBLIC src ${CMAKE_CURRENT_BINARY_DIR}/generated ${CUDAToolkit_INCLUDE_DIRS}
                           PRIVATE ${PIX_EMULATOR_DIR})

# The emulator's NCCL: a libnccl.so.2 of its own (ranks meet in POSIX shared memory), built into
# this build folder's nccl/lib/ and opened by path: build_config.h's PIX_CUDA_EMULATOR_NCCL is that
# path, and the emulated engine opens no other NCCL (distributed/nccl_library.cpp).
add_library(pix_nccl_emulator SHARED ${PIX_EMULATOR_DIR}/nccl_emulator.cpp)
set_target_properties(pix_nccl_emulator PROPERTIES PREFIX "lib" OUTPUT_NAME "nccl" SUFFIX ".so.2"
                      LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/nccl/lib)
target_include_directories(pix_nccl_emulator PRIVATE src)  # for distributed/nccl_library.h's ABI types
target_link_libraries(pix_nccl_emulator PRIVATE Threads::Threads rt)
set(PIX_CUDA_EMULATOR_NCCL ${CMAKE_BINARY_DIR}/nccl/lib/libnccl.so.2)
add_dependencies(pix_cuda pix_nccl_emulator)  # the engine is never built without its NCCL

# The emulator's cuDNN, the same way: a libcudnn.so.9 of its own (convolutions on host memory),
# built into cudnn/lib/ and opened by path (build_config.h's PIX_CUDA_EMULATOR_CUDNN; ops/cuda/cudnn.h).
add_library(pix_cudnn_emulator SHARED ${PIX_EMULATOR_DIR}/cudnn_emulator.cpp)
set_target_properties(pix_cudnn_emulator PROPERTIES PREFIX "lib" OUTPUT_NAME "cudnn" SUFFIX ".so.9"
                      LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/cudnn/lib)
# src for ops/cuda/cudnn.h's ABI types and core/dtype.h; the toolkit's for the cudaStream_t they name.
target_include_directories(pix_cudnn_emulator PRIVATE src ${CUDAToolkit_INCLUDE_DIRS})
set(PIX_CUDA_EMULATOR_CUDNN ${CMAKE_BINARY_DIR}/cudnn/lib/libcudnn.so.9)
add_dependencies(pix_cuda pix_cudnn_emulator)  # nor without its cuDNN
# Its check on its own, without the engine (run as its header says): it opens the library by path.
add_executable(pix_cudnn_emulator_check ${PIX_EMULATOR_DIR}/cudnn_emulator_check.cpp)
set_target_properties(pix_cudnn_emulator_check PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/cudnn)
target_include_directories(pix_cudnn_emulator_check PRIVATE src ${CUDAToolkit_INCLUDE_DIRS})
target_link_libraries(pix_cudnn_emulator_check PRIVATE ${CMAKE_DL_LIBS} Threads::Threads)
add_dependencies(pix_cudnn_emulator_check pix_cudnn_emulator)

# The check of stream capture and graphs (graphs_check.cpp), on the emulator's runtime alone:
#   cuda_emulator/pix_cuda_graphs_check
add_executable(pix_cuda_graphs_check ${PIX_EMULATOR_DIR}/graphs_check.cpp ${PIX_EMULATOR_RUNTIME})
set_target_properties(pix_cuda_graphs_check PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/cuda_emulator)
target_include_directories(pix_cuda_graphs_check PRIVATE ${PIX_EMULATOR_DIR} ${CUDAToolkit_INCLUDE_DIRS})
target_link_libraries(pix_cuda_graphs_check PRIVATE Threads::Threads)

# -ffp-contract=off: a GPU rounds every product and sum the kernels mark with __fmul_rn/__fadd_rn,
# and the CPU reference does not fuse either. -march=native: this build runs where it is built, and
# the kernels' fmaf is then an instruction instead of a libm call. The pragmas are nvcc's.
set_source_files_properties(${PIX_TRANSLATED_SOURCES} PROPERTIES COMPILE_OPTIONS
                            "-include;${PIX_EMULATOR_DIR}/cuda_emulator.h;-ffp-contract=off;-march=native;-Wno-unknown-pragmas")
# PIX_CUDA_EMULATOR_ASAN=ON: the kernels built with AddressSanitizer, so a kernel reading or writing
# outside its buffers stops with a report, as compute-sanitizer would on a GPU. Node must then load
# the sanitizer first: LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0.
option(PIX_CUDA_EMULATOR_ASAN "Check the emulated kernels' memory accesses with AddressSanitizer" OFF)
if(PIX_CUDA_EMULATOR_ASAN)
  set_property(SOURCE ${PIX_TRANSLATED_SOURCES} APPEND PROPERTY COMPILE_OPTIONS -fsanitize=address -fno-omit-frame-pointer)
  set_property(SOURCE ${PIX_TRANSLATED_SOURCES} APPEND PROPERTY COMPILE_DEFINITIONS PIX_CUDA_EMULATOR_ASAN=1)
  target_link_options(pix_cuda INTERFACE -fsanitize=address)
  # The stand-ins read and write the engine's tensors: checked the same way. The cuDNN check is
  # built with the sanitizer too, so that it loads its stand-in without LD_PRELOAD; the graphs check
  # so that a replay touching memory freed since its capture stops it.
  foreach(target pix_nccl_emulator pix_cudnn_emulator pix_cudnn_emulator_check pix_cuda_graphs_check)
    target_compile_options(${target} PRIVATE -fsanitize=address -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=address)
  endforeach()
endif()
target_link_libraries(pix_cuda PUBLIC pix_dynamic_library)
target_link_libraries(pix_core PUBLIC pix_cuda)
set(PIX_HAVE_CUDA 1)
set(PIX_CUDA_EMULATED 1)
set(PIX_HAVE_NCCL 1)
set(PIX_CUDA_ARCHITECTURES "emulated")
