//! loadgen-cli
