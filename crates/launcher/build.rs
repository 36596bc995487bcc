//! Links libgcc_eh into the `no_std` launcher: glibc's static archive refers to the C unwinder's
//! personality routine (its cleanup handlers), which Rust's standard library would otherwise bring.
fn main() {
    println!("cargo:rustc-link-arg-bins=-lgcc_eh");
}
