pub use urna_sim::kit;
pub mod ranked;
pub mod vectors;
