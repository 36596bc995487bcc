//! Links libgcc_eh into the `no_std` launcher: glibc's static archive refers to the C unwinder's
//! personality routine (its cleanup handlers), which Rust's standard library would otherwise bring.
//! `exec-noop` is linked with nothing at all: no start files, no C library.
fn main() {
    println!("cargo:rustc-link-arg-bin=launcher=-lgcc_eh");
    println!("cargo:rustc-link-arg-bin=exec-noop=-nostartfiles");
    println!("cargo:rustc-link-arg-bin=exec-noop=-nostdlib");
}
