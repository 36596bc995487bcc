//! TEMP STUB
pub fn fill_environment(_env: &mut crate::environment::Environment) {}
