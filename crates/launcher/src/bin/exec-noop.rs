//! `exec-noop` exits 0 and does nothing else: no C library, no Rust runtime, one system call
//! (exit_group) at its entry point. Measured as a child, it is what the kernel's exec and exit
//! cost alone; `launcher --exit` (the same nothing with glibc linked statically) adds the C
//! library's start-up, which the start-up scenario shows as a step of its own. On a 2-vCPU
//! Emerald Rapids KVM guest (family 6 model 207; `hyperfine -N`, 500 runs each) a libc-free no-op
//! took 0.2 ms and a static glibc no-op 0.8 ms: glibc asks the CPU its cache sizes at start-up
//! through CPUID, dozens of times, and there each CPUID exits to the hypervisor (9–13 µs each).
//!
//! Built with the launcher (the `bin` feature, a profile that aborts on panic), linked without
//! start files or libraries (build.rs). x86_64 and aarch64 Linux only.

#![no_std]
#![no_main]

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
core::arch::global_asm!(".globl _start", "_start:", "mov eax, 231", "xor edi, edi", "syscall", "ud2");

#[cfg(all(target_os = "linux", target_arch = "aarch64"))]
core::arch::global_asm!(".globl _start", "_start:", "mov x8, #94", "mov x0, #0", "svc #0", "udf #0");

#[cfg(not(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64"))))]
compile_error!("exec-noop knows the exit system call of x86_64 and aarch64 Linux only");

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
