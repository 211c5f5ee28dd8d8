{
  "targets": [
    {
      "target_name": "minimind_cpu",
      "sources": [
        "src/backends/cpu/addon.cc",
        "src/backends/cpu/runtime.cc",
        "src/backends/cpu/gemm.cc",
        "src/backends/cpu/gemm_amx.cc",
        "src/backends/cpu/gemm_bf16.cc",
        "src/backends/cpu/gemv.cc",
        "src/backends/cpu/gemv_q8.cc",
        "src/backends/cpu/elementwise.cc",
        "src/backends/cpu/rows.cc",
        "src/backends/cpu/transformer.cc",
        "src/backends/cpu/attention.cc",
        "src/backends/cpu/attention_one.cc",
        "src/backends/cpu/attention_decode.cc",
        "src/backends/cpu/attention_rows.cc",
        "src/backends/cpu/decode.cc",
        "src/backends/cpu/pool.cc",
        "src/backends/cpu/minhash.cc"
      ],
      "cflags!": ["-fno-exceptions", "-O2", "-O0"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++14", "-std=gnu++17", "-O2", "-O0"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-fno-math-errno", "-fno-trapping-math", "-fopenmp-simd", "-Wno-unknown-pragmas", "-Wno-unused-parameter", "-Wno-maybe-uninitialized"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": ["-O3", "-fno-math-errno", "-fopenmp-simd"]
      },
      "ldflags": ["-pthread"]
    }
  ]
}
