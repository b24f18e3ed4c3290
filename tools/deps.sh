#!/usr/bin/env bash
# Builds the third-party libraries Cairn compiles in, from Debian's source packages unpacked in
# /opt/cairn-src (see tools/buildroot/sources.txt), once per target and input hash:
#   $CAIRN_DEPS_DIR/<target>-<hash>/  include/ lib/libsodium.a  sqlite/sqlite3.{c,h}  catch2/
#   $CAIRN_DEPS_DIR/<target> -> <target>-<hash>   (what CMakePresets.json points at)
# target is native or wasm. Runs inside the build environment (./cairn does that).
# usage: tools/deps.sh PRESET   (a CMake preset name; wasm-* means the wasm target)
set -euo pipefail

preset=${1:?usage: deps.sh PRESET}
case "$preset" in wasm-*) target=wasm ;; *) target=native ;; esac
src=/opt/cairn-src
deps=${CAIRN_DEPS_DIR:?CAIRN_DEPS_DIR is not set}
jobs=$(nproc)

only_dir() {  # the one unpacked source tree matching a glob
  local d
  d=$(find "$src" -maxdepth 1 -mindepth 1 -type d -name "$1" | sort | tail -1)
  [ -n "$d" ] || { echo "deps: no source tree $1 in $src" >&2; exit 1; }
  echo "$d"
}
sodium_src=$(only_dir 'libsodium-*')
sqlite_src=$(only_dir 'sqlite3-*')
catch2_src=$(only_dir 'catch2-*')

compiler_id() {
  if [ "$target" = wasm ]; then emcc --version | head -1; else gcc --version | head -1; fi
}
key=$( { echo "deps recipe 1 $target"; compiler_id; (cd "$src" && ls ./*.dsc);
         sha256sum "$0" | cut -d' ' -f1; } | sha256sum | cut -c1-12)
out="$deps/$target-$key"
link="$deps/$target"

if [ -f "$out/.complete" ]; then
  ln -sfn "$(basename "$out")" "$link"
  exit 0
fi

t0=$SECONDS
stage() { printf '[deps %5ss] %s\n' "$((SECONDS - t0))" "$*" >&2; }
rm -rf "$out" "$out.partial"
mkdir -p "$out.partial"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# libsodium: its own autotools build, so native gets the SIMD implementations it selects at
# run time (SSSE3/AVX2 ChaCha20, BLAKE2b, Argon2). For wasm the same sources go through
# emconfigure with assembly and pthreads off, as libsodium's own emscripten build does, plus
# the SSE2/SSSE3 implementations, which Emscripten compiles to SIMD128 (below).
stage "libsodium ($target) from $(basename "$sodium_src")"
# Debian's source package is the upstream git tree: generate configure with autoreconf, as
# Debian's own build does (dh --with autoreconf), in a copy so the build root stays pristine.
cp -a "$sodium_src" "$work/sodium-src"
(cd "$work/sodium-src" && autoreconf -ivf >autoreconf.out 2>&1) ||
  { tail -30 "$work/sodium-src/autoreconf.out"; exit 1; }
sodium_src="$work/sodium-src"
if [ "$target" = wasm ]; then
  # libsodium's configure skips its intrinsics checks under Emscripten and its cpuid probe finds
  # nothing in wasm, so wasm got the portable code only. Emscripten implements the SSE2/SSSE3
  # intrinsics on wasm SIMD128 (which the module requires anyway: -msimd128), so the wasm build
  # compiles the SSE2 and SSSE3 implementations in (HAVE_*INTRIN_H below, -msse2/-mssse3 for
  # their files only, as configure does natively) and the probe reports exactly those two
  # features. Measured under Node 20 (README: "libsodium's SIMD code in wasm"), this picks:
  #   ChaCha20 (dolbeau SSSE3)    2.7x the portable code: XChaCha20-Poly1305 and secretstream
  #                               about 1.9x (Poly1305 is then half the cost)
  #   Argon2 fill-block (SSSE3)   about 1.4x
  #   Salsa20 (xmm6int SSE2)      2.7x (unused by Cairn; comes with reporting SSE2)
  # and leaves out, as slower than the portable code in wasm:
  #   BLAKE2b SSSE3 (0.75x) and SSE4.1 (0.8x): wasm has native 64-bit integer ops, which the
  #     2-lane emulated version trades for shuffles; the second hunk keeps the portable one.
  #   Poly1305 SSE2: libsodium builds it only with 128-bit integers (HAVE_TI_MODE), which wasm
  #     lacks (libcalls): with them it ran at 0.85x of the 32-bit donna code, and they halve
  #     Ed25519/X25519 (donna64, fe_51). So HAVE_TI_MODE stays off, as configure leaves it.
  (cd "$sodium_src" && patch -p1 --quiet) <<'PATCH'
--- a/src/libsodium/sodium/runtime.c
+++ b/src/libsodium/sodium/runtime.c
@@ -237,6 +237,15 @@
 
     ret &= _sodium_runtime_arm_cpu_features(&_cpu_features);
     ret &= _sodium_runtime_intel_cpu_features(&_cpu_features);
+#ifdef __EMSCRIPTEN__
+    /* no cpuid in wasm: report the SSE features this build compiled in (SIMD128) */
+# ifdef HAVE_EMMINTRIN_H
+    _cpu_features.has_sse2 = 1;
+# endif
+# ifdef HAVE_TMMINTRIN_H
+    _cpu_features.has_ssse3 = 1;
+# endif
+#endif
     _cpu_features.initialized = 1;
 
     return ret;
--- a/src/libsodium/crypto_generichash/blake2b/ref/blake2b-ref.c
+++ b/src/libsodium/crypto_generichash/blake2b/ref/blake2b-ref.c
@@ -425,7 +425,7 @@
         return 0;
     }
 #endif
-#if defined(HAVE_EMMINTRIN_H) && defined(HAVE_TMMINTRIN_H)
+#if defined(HAVE_EMMINTRIN_H) && defined(HAVE_TMMINTRIN_H) && !defined(__EMSCRIPTEN__)
     if (sodium_runtime_has_ssse3()) {
         blake2b_compress = blake2b_compress_ssse3;
         return 0;
PATCH
fi
mkdir -p "$work/sodium"
(
  cd "$work/sodium"
  common=(--disable-shared --enable-static --disable-debug --prefix="$out.partial")
  if [ "$target" = wasm ]; then
    CFLAGS="-O3 -msimd128" CPPFLAGS="-DHAVE_EMMINTRIN_H=1 -DHAVE_TMMINTRIN_H=1" \
      emconfigure "$sodium_src/configure" "${common[@]}" \
      --without-pthreads --disable-ssp --disable-asm --disable-pie \
      CFLAGS_SSE2=-msse2 CFLAGS_SSSE3=-mssse3 >config.out 2>&1 ||
      { tail -30 config.out; exit 1; }
    emmake make -j"$jobs" >make.out 2>&1 || { tail -30 make.out; exit 1; }
  else
    CFLAGS="-O3 -fPIC" "$sodium_src/configure" "${common[@]}" --with-pic >config.out 2>&1 ||
      { tail -30 config.out; exit 1; }
    make -j"$jobs" >make.out 2>&1 || { tail -30 make.out; exit 1; }
  fi
  make install >install.out 2>&1 || { tail -30 install.out; exit 1; }
)

# SQLite: the amalgamation, made by SQLite's own `make sqlite3.c` (needs tcl). The same file is
# compiled by CMake into each target with Cairn's options (third_party/CMakeLists.txt).
stage "sqlite amalgamation from $(basename "$sqlite_src")"
mkdir -p "$work/sqlite" "$out.partial/sqlite"
(
  cd "$work/sqlite"
  CC=gcc "$sqlite_src/configure" >config.out 2>&1 || { tail -30 config.out; exit 1; }
  make sqlite3.c >make.out 2>&1 || { tail -30 make.out; exit 1; }
  cp sqlite3.c sqlite3.h "$out.partial/sqlite/"
)

# Catch2: the amalgamated single-file build from the source package, compiled by CMake.
stage "catch2 amalgamation from $(basename "$catch2_src")"
mkdir -p "$out.partial/catch2"
cp "$catch2_src/extras/catch_amalgamated.hpp" "$catch2_src/extras/catch_amalgamated.cpp" \
  "$out.partial/catch2/"

touch "$out.partial/.complete"
mv "$out.partial" "$out"
ln -sfn "$(basename "$out")" "$link"
stage "deps for $target ready in $out"
