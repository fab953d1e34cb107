//! loadgen-engine
