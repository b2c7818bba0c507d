//! Test support for tiembed.
