pub mod kit;
pub mod ranked;
pub mod vectors;
