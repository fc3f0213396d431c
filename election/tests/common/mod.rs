pub use urna_sim::kit;
pub mod vectors;
