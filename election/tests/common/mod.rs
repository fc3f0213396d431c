pub mod kit;
