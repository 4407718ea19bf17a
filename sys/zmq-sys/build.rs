//! Builds libzmq 4.3.5 (vendored by `zeromq-src`) against the libsodium that `libsodium-sys-stable`
//! built from the source it ships, so CURVE is compiled in. Nothing is downloaded.

use std::env;

fn main() {
    let sodium_lib = env::var("DEP_SODIUM_LIB").expect("libsodium-sys-stable sets DEP_SODIUM_LIB");
    let sodium_include =
        env::var("DEP_SODIUM_INCLUDE").expect("libsodium-sys-stable sets DEP_SODIUM_INCLUDE");
    println!("cargo:rerun-if-env-changed=DEP_SODIUM_LIB");
    println!("cargo:rerun-if-env-changed=DEP_SODIUM_INCLUDE");
    zeromq_src::Build::new()
        .with_libsodium(Some(zeromq_src::LibLocation::new(
            sodium_lib,
            sodium_include,
        )))
        .build();
}
