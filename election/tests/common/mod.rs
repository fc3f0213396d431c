pub mod kit;
pub mod vectors;
