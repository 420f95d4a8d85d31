{
  "targets": [
    {
      "target_name": "jit_lock",
      "sources": ["native/binding.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_ENABLE_MAYBE"],
      "conditions": [
        ["OS=='win'", {
          "sources": ["native/lock_win32.cc"],
          "defines": ["_HAS_EXCEPTIONS=1"],
          "defines!": ["_HAS_EXCEPTIONS=0"],
          "msvs_settings": {"VCCLCompilerTool": {"WarningLevel": 4, "WarnAsError": "true", "ExceptionHandling": 1}}
        }, {
          "sources": ["native/lock_posix.cc"],
          "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Werror", "-fvisibility=hidden"],
          "cflags_cc!": ["-fno-exceptions"],
          "conditions": [
            ["OS=='linux'", {
              "ldflags": ["-Wl,-z,now"]
            }]
          ],
          "xcode_settings": {
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "MACOSX_DEPLOYMENT_TARGET": "10.15",
            "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
            "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
            "OTHER_CPLUSPLUSFLAGS": ["-Wall", "-Wextra", "-Werror"]
          }
        }]
      ]
    }
  ]
}
