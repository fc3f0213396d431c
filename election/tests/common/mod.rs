pub use urna_sim::kit;
pub use urna_sim::ranked;
pub mod vectors;
