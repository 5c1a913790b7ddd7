//! Standing orders: managing them and allocating accepted leads to them.

pub mod allocate;
