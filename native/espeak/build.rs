fn main() {
    napi_build::setup();
    // espeak-ng's CMake build uses the system libsonic (Debian: libsonic-dev) instead of
    // fetching it from GitHub, and espeak-rs-sys does not link it for us.
    println!("cargo:rustc-link-lib=dylib=sonic");
}
